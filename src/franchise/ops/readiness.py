"""Readiness: may this process be sent traffic? Liveness (/api/v1/health) only says it runs."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from franchise.db import Database
from franchise.migrate import migration_running
from franchise.ops.schema import schema_status


def check_ready(db: Database) -> dict[str, Any]:
    """Ready when the database answers, no migration runs and the schema is current."""
    reasons: list[str] = []
    revision: str | None = None
    try:
        if isinstance(db.bind, Engine) and migration_running(db.bind):
            reasons.append("a migration is running")
        else:
            # A connection-bound database (the tests') is used as it is, never closed.
            connecting = db.bind.connect() if isinstance(db.bind, Engine) else nullcontext(db.bind)
            with connecting as conn:
                conn.execute(text("SELECT 1"))
                status = schema_status(conn)
            revision = status.current
            if status.is_newer:
                reasons.append(f"the schema ({status.current}) is newer than this code")
            elif not status.is_current:
                reasons.append(
                    f"the schema is at {status.current or 'nothing'}, not {status.head}: "
                    "run franchise upgrade"
                )
    except SQLAlchemyError as exc:
        reasons.append(f"database unreachable: {type(exc).__name__}")
    return {"ready": not reasons, "reasons": reasons, "schema_revision": revision}
