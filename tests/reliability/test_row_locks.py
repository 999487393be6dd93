"""Row locks, held for real: two connections to one committed PostgreSQL database.

SQLite has no row locks (a writer locks the whole file, BEGIN IMMEDIATE), so `FOR UPDATE`
and `SKIP LOCKED` mean nothing there and these tests say so as a skip on the sqlite
parameter. On PostgreSQL they hold one transaction open and watch what the other does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from franchise.alerts.inbox import claim, receive, store
from franchise.alerts.models import InboxItem
from franchise.alerts.service import add_integration
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.errors import Conflict
from franchise.migrate import upgrade
from franchise.runbooks import service as runbooks
from tests.reliability.faults_support import scratch_database

NOT_ON_SQLITE = (
    "row locks (FOR UPDATE, SKIP LOCKED) exist on PostgreSQL only; SQLite locks the file"
)


@pytest.fixture
def committed(backend: str, tmp_path: Path) -> Iterator[Database]:
    if backend != "postgresql":
        pytest.skip(NOT_ON_SQLITE)
    with scratch_database(backend, tmp_path) as url:
        db = Database.from_url(url)
        try:
            upgrade(db)
            yield db
        finally:
            db.dispose()


def test_a_second_worker_skips_the_items_another_worker_holds(committed: Database) -> None:
    with committed.unit_of_work() as session:
        integration, _ = add_integration(session, kind="generic", name="mon")
        ids = [
            store(session, integration.id, receive("generic", b'{"title": "t%d"}' % n, {})).inbox_id
            for n in range(4)
        ]
    with committed.unit_of_work() as first:
        assert claim(first, worker="a", batch=2, lease_seconds=60) == ids[:2]
        # `first` is still open and holds rows 1 and 2. Without SKIP LOCKED the second worker
        # would wait on them; the lock timeout turns that wait into a failure.
        with committed.unit_of_work() as second:
            second.execute(text("SET LOCAL lock_timeout = '3s'"))
            assert claim(second, worker="b", batch=2, lease_seconds=60) == ids[2:]
    with committed.unit_of_work() as session:
        owners = dict(session.execute(select(InboxItem.id, InboxItem.claimed_by)).all())
    assert owners == {ids[0]: "a", ids[1]: "a", ids[2]: "b", ids[3]: "b"}


def test_a_second_answer_to_a_step_waits_for_the_first_then_gets_conflict(
    committed: Database,
) -> None:
    with committed.unit_of_work() as session:
        initialise(session)
        run_id = runbooks.start_run(session, runbooks.get_runbook(session, "vpn-auth-failure")).id
    outcome: dict[str, object] = {}
    first_answered = threading.Event()

    def second() -> None:
        first_answered.wait(10)
        try:
            with committed.unit_of_work() as session:
                run = runbooks.get_run(session, run_id)
                outcome["state"] = runbooks.answer_run(
                    session, run, step="scope", reply="Several or all users"
                )
        except Exception as exc:
            outcome["error"] = exc

    racer = threading.Thread(target=second)
    racer.start()
    with committed.unit_of_work() as session:
        run = runbooks.get_run(session, run_id)
        runbooks.answer_run(session, run, step="scope", reply="Only this user")
        first_answered.set()
        # The second answer reads the run row FOR UPDATE, so it waits for this commit.
        racer.join(1.0)
        assert racer.is_alive(), "the second answer did not wait for the first one's lock"
    racer.join(10)
    assert not racer.is_alive()
    error = outcome.get("error")
    assert isinstance(error, Conflict), f"the second answer got {outcome!r}, not a Conflict"
    assert (
        error.message
        == f"run {run_id} is at step 'client-error', not 'scope' (someone answered it)"
    )
    with committed.unit_of_work() as session:
        run = runbooks.get_run(session, run_id)
        steps = runbooks.run_steps(session, run, include_retracted=True)
        assert [(s.step_id, s.answer) for s in steps] == [("scope", "Only this user")]
        assert run.current_step == "client-error"
