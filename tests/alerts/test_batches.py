"""Processing in batches: one transaction for many items, a savepoint each, a bad alert
failing only itself, and large bodies applied in parts that each commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from franchise.alerts.models import AlertGroup, InboxItem, Integration
from franchise.alerts.worker import MAX_ATTEMPTS, Report, process_pending
from franchise.db import Database
from franchise.tickets.models import Ticket
from franchise.tickets.service import history

MakeIntegration = Callable[..., tuple[Integration, str]]
Post = Callable[..., int]


def alert(key: str, **fields: Any) -> dict[str, Any]:
    return {"title": f"Service {key} down", "dedup_key": key, "severity": "error", **fields}


def items(db: Database) -> list[InboxItem]:
    with db.unit_of_work() as session:
        return list(session.scalars(select(InboxItem).order_by(InboxItem.id)))


def titles(db: Database) -> list[str]:
    with db.unit_of_work() as session:
        return sorted(session.scalars(select(Ticket.title).where(Ticket.source == "alert")))


def test_one_transaction_takes_many_items_and_refreshes_escalation_once_per_ticket(
    db: Database, make_integration: MakeIntegration, post: Post, request: pytest.FixtureRequest
) -> None:
    integration, _ = make_integration()
    for n in range(6):
        post(integration, [alert(f"k{n % 3}"), alert("shared")])
    commits: list[int] = request.getfixturevalue("units_of_work")
    report = process_pending(db, worker="w", budget=60.0)
    # Two rounds of (suggest index check, claim), the second finding nothing, and a single
    # processing transaction for the six items (one per item before batches: 10).
    assert len(commits) == 5
    assert (report.done, report.alerts) == (6, 12)
    assert report.outcomes == {"opened": 4, "deduplicated": 8}
    with db.unit_of_work() as session:
        shared = session.scalar(select(Ticket).where(Ticket.title == "Service shared down"))
        assert shared is not None
        checks = [e for e in history(session, shared) if "escalation check" in (e.note or "")]
        # One refresh: its two field changes (the decision's field and tag), once.
        assert [e.field for e in checks] == ["custom_fields", "tags"]
        assert shared.custom_fields["alert_count"] == 6


def test_a_failing_item_rolls_back_to_its_savepoint_only(
    db: Database, make_integration: MakeIntegration, post: Post, monkeypatch: pytest.MonkeyPatch
) -> None:
    integration, _ = make_integration()
    first = post(integration, alert("a"))
    bad = post(integration, alert("b"))
    last = post(integration, alert("c"))
    from franchise.alerts import bulk, worker

    real = worker.apply_alert
    real_planned = bulk._apply

    def broken_for_b(session: Any, integration: Any, normalized: Any, **kw: Any) -> str:
        outcome = real(session, integration, normalized, **kw)  # opened, then undone
        if normalized.dedup_key == "b":
            raise RuntimeError("a bug")
        return outcome

    def planned_broken_for_b(plan: Any, integration: Any, normalized: Any, at: Any) -> str:
        outcome = real_planned(plan, integration, normalized, at)
        if normalized.dedup_key == "b":
            raise RuntimeError("a bug")
        return outcome

    # The bug is in both paths: the bulk one fails as a whole, and the items then taken one
    # by one fail alone.
    monkeypatch.setattr(worker, "apply_alert", broken_for_b)
    monkeypatch.setattr(bulk, "_apply", planned_broken_for_b)
    report = process_pending(db, worker="w", budget=60.0)
    # The bad item is given back and claimed again until its last attempt; the others were
    # committed with the first batch, once.
    assert (report.done, report.failed) == (2, MAX_ATTEMPTS)
    states = {i.id: (i.state, i.attempts, i.error) for i in items(db)}
    assert states[first] == ("done", 1, None)
    assert states[last] == ("done", 1, None)
    assert states[bad] == ("failed", MAX_ATTEMPTS, "RuntimeError: a bug")
    assert titles(db) == ["Service a down", "Service c down"]
    with db.unit_of_work() as session:
        assert sorted(session.scalars(select(AlertGroup.dedup_key))) == ["a", "c"]


@pytest.mark.parametrize(
    ("poison", "refused_by"),
    [
        pytest.param('"title": "Disk \\ud800 full"', ("sqlite", "postgresql"), id="surrogate"),
        # SQLite stores NUL characters; PostgreSQL refuses them in text.
        pytest.param('"title": "Disk \\u0000 full"', ("postgresql",), id="NUL"),
    ],
)
def test_an_unstorable_alert_fails_alone_and_the_item_says_which(
    db: Database,
    make_integration: MakeIntegration,
    post: Post,
    poison: str,
    refused_by: tuple[str, ...],
) -> None:
    integration, _ = make_integration()
    body = (
        '{"alerts": ['
        '{"title": "First", "dedup_key": "k1"},'
        '{"dedup_key": "k2", ' + poison + "},"
        '{"title": "Third", "dedup_key": "k3"}]}'
    )
    item_id = post(integration, body)
    report = process_pending(db, worker="w")
    assert report.done == 1
    if db.dialect not in refused_by:
        assert report.outcomes == {"opened": 3}
        assert items(db)[0].alert_errors is None
        return
    assert report.outcomes == {"opened": 2, "failed": 1}
    item = items(db)[0]
    assert item.id == item_id and item.state == "done"
    assert item.alert_errors is not None and len(item.alert_errors) == 1
    failure = item.alert_errors[0]
    assert (failure["alert"], failure["dedup_key"]) == (1, "k2")
    assert failure["error"].startswith("a value is out of range or has characters")
    assert item.error is not None
    assert item.error.startswith("1 of 3 alerts failed and the others were applied; alerts[1]: ")
    assert titles(db) == ["First", "Third"]


def test_a_large_body_is_applied_in_parts_each_committed(
    db: Database, make_integration: MakeIntegration, post: Post
) -> None:
    integration, _ = make_integration()
    item_id = post(integration, [alert(f"k{n:02d}") for n in range(7)] + [alert("k00")])
    # A budget of nothing: each transaction applies one alert, then commits with the count.
    report = process_pending(db, worker="w", budget=0.0)
    assert (report.done, report.alerts) == (1, 8)
    assert report.outcomes == {"opened": 7, "deduplicated": 1}
    item = items(db)[0]
    assert (item.id, item.state, item.progress, item.attempts) == (item_id, "done", 8, 1)
    with db.unit_of_work() as session:
        counts = {
            key: count
            for key, count in session.execute(select(AlertGroup.dedup_key, AlertGroup.count))
        }
    assert counts == {f"k{n:02d}": (2 if n == 0 else 1) for n in range(7)}


def test_a_part_done_item_taken_over_continues_where_it_stopped(
    db: Database, make_integration: MakeIntegration, post: Post
) -> None:
    """A worker that died after committing part of an item: the next one resumes there."""
    integration, _ = make_integration()
    post(integration, [alert(f"k{n}") for n in range(4)])
    from franchise.alerts.inbox import claim
    from franchise.alerts.processing import Batch
    from franchise.alerts.worker import process_item

    with db.unit_of_work() as session:
        [item_id] = claim(session, worker="dead", batch=10, lease_seconds=60)
    with db.unit_of_work() as session:
        applied = process_item(session, item_id, "dead", Batch(deadline=0.0))
        assert applied is not None and (applied.outcomes, applied.finished) == (["opened"], False)
    # Its lease runs out; another worker claims and finishes the other three, exactly once.
    report = process_pending(db, worker="next", lease_seconds=-1)
    assert report.outcomes == {"opened": 3}
    item = items(db)[0]
    assert (item.state, item.progress, item.attempts) == ("done", 4, 2)
    assert titles(db) == [f"Service k{n} down" for n in range(4)]


def test_report_counts_every_part(db: Database) -> None:
    report = Report()
    report.add(Report(done=1, alerts=2, outcomes={"opened": 2}))
    report.add(Report(alerts=1, outcomes={"opened": 1}))
    assert report.to_dict()["outcomes"] == {"opened": 3}


def test_a_batch_decides_escalation_as_each_ticket_alone_would(
    db: Database, starter: None, make_integration: MakeIntegration, post: Post
) -> None:
    """The batch reads each covering runbook once for many tickets and skips the run lookup
    of tickets it just opened; the decisions are those of a fresh check of each ticket."""
    from franchise.escalation.service import check_escalation

    integration, _ = make_integration()
    post(
        integration,
        [
            # Claimed by a starter runbook (its checks come first), twice for the cache...
            alert("off1", alert_type="rmm.device_offline", host="pc1"),
            alert("off2", alert_type="rmm.device_offline", host="pc2"),
            # ... another runbook's, and one no runbook covers (the map's default).
            alert("bk1", alert_type="backup.job_failed", title="Nightly backup job failed"),
            alert("cpu", title="CPU above 95% for 15 minutes"),
        ],
    )
    assert process_pending(db, worker="w", budget=60.0).outcomes == {"opened": 4}
    with db.unit_of_work() as session:
        opened = list(session.scalars(select(Ticket).where(Ticket.source == "alert")))
        assert len(opened) == 4
        decisions = set()
        for ticket in opened:
            fresh = check_escalation(session, ticket)
            stored = [t for t in ticket.tags if t.startswith("escalate:")]
            expected = [f"escalate:{fresh.to}"] if fresh.allowed and fresh.to else []
            assert stored == expected, ticket.title
            assert ticket.custom_fields["escalation_allowed"] == ("yes" if fresh.allowed else "no")
            decisions.add((fresh.allowed, fresh.rule))
        # Both kinds occurred: a runbook holding tickets back, and one allowed by the map.
        assert {allowed for allowed, _ in decisions} == {True, False}
