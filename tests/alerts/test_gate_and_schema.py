"""The intake gate that lets webhooks write first, and the alert tables' migration."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

import franchise.alerts.models  # noqa: F401 - the alert tables join the metadata
from franchise.alerts.worker import IntakeGate
from franchise.db import Base, Database, background_work


def test_the_drainer_waits_while_webhooks_write_but_not_forever() -> None:
    gate = IntakeGate(settle=0.05, max_wait=0.3)
    started = time.monotonic()
    gate.wait_quiet()
    assert time.monotonic() - started < 0.05  # idle: no wait

    def storm() -> None:
        for _ in range(40):
            with gate.writing():
                time.sleep(0.01)

    writer = threading.Thread(target=storm)
    writer.start()
    time.sleep(0.02)
    started = time.monotonic()
    gate.wait_quiet()
    waited = time.monotonic() - started
    writer.join()
    assert 0.25 <= waited < 0.45  # capped by max_wait, so processing still advances


def test_the_drainers_transactions_are_shorter_while_requests_come() -> None:
    gate = IntakeGate(busy_window=0.2, busy_budget=0.05)
    assert gate.budget(0.1) == 0.1  # nobody has asked for anything: the whole budget
    with gate.writing():
        assert gate.budget(0.1) == 0.05  # a request writes now
    assert gate.budget(0.1) == 0.05  # and others may follow it
    assert gate.budget(0.02) == 0.02  # never longer than the drainer's own budget
    time.sleep(0.25)
    assert gate.budget(0.1) == 0.1  # quiet for the window again


def test_a_requests_unit_of_work_goes_before_the_drainer_and_the_drainers_own_do_not(
    tmp_path: Path,
) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path / 'turns.sqlite3'}")
    gate = IntakeGate(settle=0.01, max_wait=60)
    db.turns = gate
    drained = threading.Event()

    def drainer() -> None:
        gate.wait_quiet()
        drained.set()

    try:
        with db.unit_of_work():
            assert gate.writers == 1
            waiting = threading.Thread(target=drainer)
            waiting.start()
            # The drainer does not start a transaction while the request's runs.
            assert not drained.wait(0.3)
        assert drained.wait(30)
        waiting.join()
        # The drainer's own units of work take no turn, or it would wait on itself.
        with background_work(), db.unit_of_work():
            assert gate.writers == 0
        assert gate.writers == 0
    finally:
        db.dispose()


ALERT_TABLES = {"integrations", "alert_inbox", "alert_groups", "client_mappings"}


def _table(entry: Any) -> str | None:
    """The table a compare_metadata entry is about (entries are tuples, or lists of them)."""
    if isinstance(entry, list):
        return _table(entry[0])
    for part in entry[1:]:
        name = getattr(part, "name", None)
        table = getattr(part, "table", None)
        if table is not None:
            return str(table.name)
        if name is not None and hasattr(part, "columns"):
            return str(name)
        if isinstance(part, str):
            return part
    return None


def test_alert_tables_match_migration_0003(engine: Engine) -> None:
    # Only our tables: other domains' models may not be imported in this test run.
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    ours = [d for d in diff if _table(d) in ALERT_TABLES]
    assert ours == []
