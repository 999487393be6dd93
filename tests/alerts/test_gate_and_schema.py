"""The intake gate that lets webhooks write first, and the alert tables' migration."""

from __future__ import annotations

import threading
import time
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

import franchise.alerts.models  # noqa: F401 - the alert tables join the metadata
from franchise.alerts.worker import IntakeGate
from franchise.db import Base


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
