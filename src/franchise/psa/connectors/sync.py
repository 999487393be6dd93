"""Pulling the PSA's new and changed tickets in: incremental, cursor stored, idempotent.

Tickets go through the CSV importer's upsert (psa/importer.py): the PSA ticket number is
the external id, and a field changed in the PSA since the last sync wins while one changed
only in Franchise is kept. The cursor moves only when the tickets it covers are saved, so
a PSA outage or a crash loses nothing: the next sync asks again from the same point. The
window overlaps the last one a little (the PSA's clock and ours differ); the import is
idempotent, so a ticket seen twice changes nothing.

Changes made while importing carry the INBOUND mark in the session, so the outbound hooks
(outbound.py) do not push back to the PSA what just came from it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from franchise.db import Database, utcnow
from franchise.errors import InvalidInput
from franchise.orgsettings.models import OrgSetting
from franchise.psa.connectors.base import INBOUND, PsaError, to_row
from franchise.psa.connectors.store import (
    SyncState,
    connector_for,
    load_connection,
    read_state,
    write_state,
)
from franchise.psa.importer import ImportReport, import_ticket_rows
from franchise.psa.rows import TicketRow
from franchise.psa.values import BadValue
from franchise.settings import Settings

if TYPE_CHECKING:
    # Imported where a request is sent: httpx loads about 5 MB (its command line's rich
    # and pygments too), which a server that never calls out does without.
    import httpx

OVERLAP = timedelta(minutes=2)
DEFAULT_INTERVAL = 60.0
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=30)
# A sync that died half-way (the process was killed) is taken again after this.
LEASE = timedelta(minutes=10)

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    vendor: str
    ok: bool = True
    skipped: str | None = None
    pages: int = 0
    received: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    retry_at: str | None = None
    cursor: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def backoff(failures: int) -> timedelta:
    wait: timedelta = FIRST_RETRY * (2 ** max(failures - 1, 0))
    return min(wait, LONGEST_WAIT)


def sync_once(
    db: Database,
    settings: Settings,
    *,
    client: httpx.Client | None = None,
    now: datetime | None = None,
    interval: float | None = None,
) -> SyncReport:
    """One sync. With `interval`, only when one is due (the background loops); else now."""
    now = now or utcnow()
    with db.unit_of_work() as session:
        config = load_connection(session, settings)
        if config is None:
            raise InvalidInput(
                "no PSA is connected; run franchise psa connect halopsa|connectwise|autotask ... first"
            )
        state = _claim(session, now, interval)
    report = SyncReport(vendor=config.vendor)
    if state is None:
        report.skipped = "another sync is under way" if interval is None else "not due"
        return report
    since = datetime.fromisoformat(state.cursor) if state.cursor else None
    connector = connector_for(config, client)
    try:
        pulled = connector.pull(since, now)
    except PsaError as exc:
        _failed(db, now, exc, report)
        return report
    except Exception as exc:
        # Recorded like any failure (backoff, `psa status`), never a lease left to expire.
        log.exception("PSA pull failed")
        reason = f"{config.vendor} answered in a way Franchise could not read: {exc!r}"[:500]
        _failed(db, now, PsaError(reason), report)
        return report
    finally:
        connector.close()
    report.pages, report.received = pulled.pages, len(pulled.tickets)
    rows: list[TicketRow] = []
    numbers: dict[int, str] = {}
    for index, remote in enumerate(pulled.tickets, start=1):
        try:
            row = to_row(remote, config.vendor, config)
        except BadValue as exc:
            report.errors.append({"ticket": remote.number, "message": str(exc)})
            continue
        rows.append(TicketRow(**{**row.__dict__, "line": index}))
        numbers[index] = remote.number
    imported = ImportReport(file=f"{config.vendor} API", format=config.vendor)
    cursor = (pulled.cursor - OVERLAP).isoformat()
    with db.unit_of_work() as session:
        session.info[INBOUND] = True
        # What the pushes this import queues (the escalation answer) are sent with.
        session.info.setdefault("franchise_settings", settings)
        import_ticket_rows(session, rows, fmt=config.vendor, report=imported)
        state = read_state(session, lock=True)
        state.cursor, state.last_success_at = cursor, now.isoformat()
        state.failures, state.next_run_at, state.running_until = 0, None, None
        state.imported += imported.imported
        state.updated += imported.updated
        problems = report.errors + [
            {"ticket": numbers.get(int(e["line"]), "?"), "message": e["message"]}
            for e in imported.errors
        ]
        state.last_error = (
            f"{len(problems)} ticket(s) not imported: {problems[0]['ticket']}: "
            f"{problems[0]['message']}"
            if problems
            else None
        )
        write_state(session, state)
    report.errors = problems
    report.imported, report.updated = imported.imported, imported.updated
    report.unchanged, report.cursor = imported.unchanged, cursor
    return report


def _claim(session: Session, now: datetime, interval: float | None) -> SyncState | None:
    """Mark the sync as running; None when it is not due or another process runs it.

    The row lock (PostgreSQL; SQLite's write lock) makes two workers' claims take turns, so
    only one of them pulls.
    """
    state = read_state(session, lock=True)
    if state.running_until and datetime.fromisoformat(state.running_until) > now:
        return None  # two imports at once could both create a new ticket
    if interval is not None and not state.due(now, interval):
        return None
    state.last_run_at, state.running_until = now.isoformat(), (now + LEASE).isoformat()
    write_state(session, state)
    return state


def _failed(db: Database, now: datetime, exc: PsaError, report: SyncReport) -> None:
    with db.unit_of_work() as session:
        state = read_state(session, lock=True)
        state.failures += 1
        wait = max(backoff(state.failures), exc.retry_after or timedelta(0))
        state.last_error = exc.reason
        state.next_run_at = (now + wait).isoformat()
        state.running_until = None
        write_state(session, state)
    report.ok, report.error, report.retry_at = False, exc.reason, state.next_run_at


def sync_if_due(db: Database, settings: Settings, interval: float = DEFAULT_INTERVAL) -> bool:
    """For the background loops: sync when connected and due; True when a sync ran."""
    with db.unit_of_work() as session:
        if session.get(OrgSetting, "psa_connection") is None:
            return False
    try:
        report = sync_once(db, settings, interval=interval)
    except InvalidInput:
        return False  # the credentials cannot be opened; `franchise psa status` says so
    return report.skipped is None
