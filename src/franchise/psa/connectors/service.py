"""What the CLI, the API and the Settings page ask of the PSA connection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.db import Database
from franchise.errors import InvalidInput
from franchise.outbox.models import OutboxItem
from franchise.psa.connectors.base import PsaError
from franchise.psa.connectors.outbound import KIND
from franchise.psa.connectors.store import connector_for, load_connection, read_state
from franchise.settings import Settings

if TYPE_CHECKING:
    # Imported where a request is sent: httpx loads about 5 MB (its command line's rich
    # and pygments too), which a server that never calls out does without.
    import httpx


def sync_status(session: Session, settings: Settings) -> dict[str, Any]:
    """The connection (never its secrets), the cursor, and the outbox's PSA pushes."""
    config = load_connection(session, settings)
    state = read_state(session)
    counts = dict(
        session.execute(
            select(OutboxItem.state, func.count())
            .where(OutboxItem.kind == KIND)
            .group_by(OutboxItem.state)
        ).all()
    )
    last_failed = session.scalar(
        select(OutboxItem.last_error)
        .where(OutboxItem.kind == KIND, OutboxItem.last_error.is_not(None))
        .order_by(OutboxItem.id.desc())
        .limit(1)
    )
    return {
        "connected": config is not None,
        "vendor": config.vendor if config else None,
        "url": config.base_url if config else None,
        "options": dict(config.options) if config else {},
        "secrets_set": sorted(config.secrets) if config else [],
        "cursor": state.cursor,
        "last_run_at": state.last_run_at,
        "last_success_at": state.last_success_at,
        "last_error": state.last_error,
        "failures": state.failures,
        "next_run_at": state.next_run_at,
        "imported": state.imported,
        "updated": state.updated,
        "queued": int(counts.get("pending", 0)),
        "delivered": int(counts.get("delivered", 0)),
        "failed": int(counts.get("failed", 0)),
        "last_push_error": last_failed,
    }


def check_connection(
    db: Database, settings: Settings, *, client: httpx.Client | None = None
) -> str:
    """Sign in and read one thing, with no transaction open; InvalidInput says what failed."""
    with db.unit_of_work() as session:
        config = load_connection(session, settings)
    if config is None:
        raise InvalidInput(
            "no PSA is connected; run franchise psa connect halopsa|connectwise|autotask ... first"
        )
    connector = connector_for(config, client)
    try:
        return connector.test()
    except PsaError as exc:
        raise InvalidInput(f"connection test failed: {exc.reason}") from None
    finally:
        connector.close()
