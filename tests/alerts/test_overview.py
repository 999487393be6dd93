"""The Integrations page's figures: last webhook, failed and rejected counts, recent problems."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from franchise.alerts import overview
from franchise.alerts.models import InboxItem, Integration
from franchise.alerts.overview import (
    integration_rows,
    last_received,
    problem_counts,
    recent_problems,
)
from franchise.alerts.service import revoke_integration
from franchise.db import Database

MakeIntegration = Callable[..., tuple[Integration, str]]
Post = Callable[..., int]
T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
GOOD = {"title": "Disk C: low on SRV-FS01", "host": "SRV-FS01"}


def at(db: Database, inbox_id: int, minutes: int, **values: Any) -> datetime:
    """Give an inbox item its arrival time (T0 + minutes) and any other column values."""
    moment = T0 + timedelta(minutes=minutes)
    with db.unit_of_work() as session:
        session.execute(
            update(InboxItem).where(InboxItem.id == inbox_id).values(received_at=moment, **values)
        )
    return moment


def backdate(db: Database, integration: Integration) -> None:
    with db.unit_of_work() as session:
        session.execute(
            update(Integration)
            .where(Integration.id == integration.id)
            .values(created_at=T0 - timedelta(days=1))
        )


def same_moment(a: datetime | None, b: datetime) -> bool:
    """SQLite hands times back without their zone; they are UTC."""
    assert a is not None
    return (a if a.tzinfo else a.replace(tzinfo=UTC)) == b


def test_last_webhook_is_the_newest_body_of_each_integration(
    db: Database, make_integration: MakeIntegration, post: Post
) -> None:
    a, _ = make_integration("generic", name="A")
    b, _ = make_integration("generic", name="B")
    make_integration("generic", name="Quiet")
    at(db, post(a, GOOD), 0)
    at(db, post(b, GOOD), 1)
    last_a = at(db, post(a, GOOD), 2)
    with db.unit_of_work() as session:
        last = last_received(session)
        rows = {r.integration.name: r for r in integration_rows(session)}
    assert set(last.at) == {a.id, b.id}
    assert same_moment(last.at[a.id], last_a)
    assert same_moment(last.at[b.id], T0 + timedelta(minutes=1))
    assert last.since is None  # fewer bodies than are read: all of them were
    assert (rows["Quiet"].last_received, rows["Quiet"].quiet_since) == (None, None)  # never


def minute(n: int | None) -> datetime | None:
    return None if n is None else T0 + timedelta(minutes=n)


# Three bodies are read; Old's is at minute 0, Busy's follow at minutes 1, 2, 3...
@pytest.mark.parametrize(
    ("busy_bodies", "old_last", "old_quiet"),
    [
        (1, 0, None),  # two in all: every body is read, Old's among them
        (2, 0, None),  # three: Old's is the oldest one read
        (3, None, 1),  # four: Old's is not read; it sent nothing since the oldest read
    ],
)
def test_an_integration_missing_from_the_bodies_read_is_quiet_since_the_oldest_of_them(
    db: Database,
    make_integration: MakeIntegration,
    post: Post,
    monkeypatch: pytest.MonkeyPatch,
    busy_bodies: int,
    old_last: int | None,
    old_quiet: int | None,
) -> None:
    monkeypatch.setattr(overview, "RECENT", 3)
    old, _ = make_integration("generic", name="Old")
    busy, _ = make_integration("generic", name="Busy")
    backdate(db, old)
    at(db, post(old, GOOD), 0)
    for n in range(1, busy_bodies + 1):
        at(db, post(busy, GOOD), n)
    with db.unit_of_work() as session:
        rows = {r.integration.name: r for r in integration_rows(session)}
    for value, expected in (
        (rows["Old"].last_received, minute(old_last)),
        (rows["Old"].quiet_since, minute(old_quiet)),
    ):
        assert value is None if expected is None else same_moment(value, expected)
    assert same_moment(rows["Busy"].last_received, T0 + timedelta(minutes=busy_bodies))


def test_an_integration_added_after_the_bodies_read_has_never_sent(
    db: Database, make_integration: MakeIntegration, post: Post, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(overview, "RECENT", 1)
    busy, _ = make_integration("generic", name="Busy")
    at(db, post(busy, GOOD), 0)
    at(db, post(busy, GOOD), 1)
    make_integration("generic", name="New")  # created now, long after T0
    with db.unit_of_work() as session:
        rows = {r.integration.name: r for r in integration_rows(session)}
    assert (rows["New"].last_received, rows["New"].quiet_since) == (None, None)


def test_problems_count_failed_and_rejected_bodies_by_integration(
    db: Database, make_integration: MakeIntegration, post: Post
) -> None:
    a, _ = make_integration("generic", name="A")
    b, _ = make_integration("generic", name="B")
    post(a, "not json")  # rejected on arrival
    at(db, post(a, GOOD), 1, state="failed", error="boom")
    post(a, GOOD)  # pending: not a problem
    post(b, GOOD)
    with db.unit_of_work() as session:
        assert problem_counts(session) == ({a.id: 2}, False)
        rows = {r.integration.name: r for r in integration_rows(session)}
    assert (rows["A"].problems, rows["B"].problems) == (2, 0)


@pytest.mark.parametrize(("rejected", "capped"), [(1, False), (2, True), (3, True)])
def test_problem_counts_say_when_there_were_more_than_they_read(
    db: Database,
    make_integration: MakeIntegration,
    post: Post,
    monkeypatch: pytest.MonkeyPatch,
    rejected: int,
    capped: bool,
) -> None:
    monkeypatch.setattr(overview, "PROBLEMS_COUNTED", 2)
    a, _ = make_integration("generic")
    for _ in range(rejected):
        post(a, "{")
    with db.unit_of_work() as session:
        assert problem_counts(session) == ({a.id: min(rejected, 2)}, capped)


def test_recent_problems_are_the_newest_failed_or_rejected_without_bodies(
    db: Database, make_integration: MakeIntegration, post: Post
) -> None:
    a, _ = make_integration("alertmanager", name="Acme Prometheus")
    b, _ = make_integration("generic", name="Tactical RMM")
    ids = []
    for n in range(12):
        ids.append(post(a, '{"version": "4", "alerts": "secret-body-text"}'))
        failed = post(b, GOOD)
        at(db, failed, n, state="failed", error=f"error {n} " + "x" * 500)
        ids.append(failed)
    post(b, GOOD)  # pending
    with db.unit_of_work() as session:
        revoke_integration(session, b.id)  # revoked ones keep their name
        problems = recent_problems(session)
    assert [p.inbox_id for p in problems] == sorted(ids, reverse=True)[:20]
    newest_failed = next(p for p in problems if p.state == "failed")
    assert (newest_failed.integration, newest_failed.kind) == ("Tactical RMM", "generic")
    assert newest_failed.error.startswith("error 11 xxx")
    assert len(newest_failed.error) == overview.ERROR_SHOWN
    assert newest_failed.error.endswith("…")
    rejected = next(p for p in problems if p.state == "rejected")
    assert (rejected.integration, rejected.error) == (
        "Acme Prometheus",
        "alerts: expected a JSON array, got text",
    )
    assert all("secret-body-text" not in p.error for p in problems)


def test_an_error_as_long_as_shown_is_kept_whole(
    db: Database, make_integration: MakeIntegration, post: Post
) -> None:
    a, _ = make_integration("generic")
    exact = "e" * overview.ERROR_SHOWN
    at(db, post(a, GOOD), 0, state="failed", error=exact)
    with db.unit_of_work() as session:
        (problem,) = recent_problems(session)
    assert problem.error == exact
