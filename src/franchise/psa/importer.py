"""Importing PSA ticket exports: idempotent by ticket number, bad rows named by line.

Rows are stored in batches, each its own transaction: an import is idempotent, so one cut
short is finished by running it again, and a 10,000-row file does not hold SQLite's write
lock for the minute it takes (the web app's writers give up after 30 seconds). Inside a
batch each row has a savepoint, so a row the database refuses is reported, not fatal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from franchise.clients.contacts import ContactFields, add_contact, get_contact
from franchise.clients.models import Client
from franchise.clients.service import add_client, get_client
from franchise.db import Database, utcnow
from franchise.errors import Conflict, FranchiseError, InvalidInput, NotFound
from franchise.escalation.service import refresh_escalation
from franchise.orgsettings.service import get_config
from franchise.psa.formats import FORMATS, Format
from franchise.psa.mapping import load_mapping
from franchise.psa.models import ImportState
from franchise.psa.rows import RowProblem, TicketRow, read_rows
from franchise.tickets.attachment import create_with_runbook
from franchise.tickets.models import Ticket
from franchise.tickets.service import change_ticket, set_requester

SOURCE = "import"
BATCH_SIZE = 250
MAX_CLIENT_NAME = 200


@dataclass
class ImportReport:
    file: str
    format: str
    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    clients_created: list[str] = field(default_factory=list)

    def error(self, line: int, message: str) -> None:
        self.errors.append({"line": line, "message": message})

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "rows": self.rows,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": sorted(self.errors, key=lambda e: int(e["line"])),
            "clients_created": self.clients_created,
        }


def resolve_format(name: str, mapping: Path | None) -> Format:
    base = FORMATS.get(name.lower())
    if base is None:
        raise InvalidInput(f"unknown format '{name}' (use {', '.join(FORMATS)})")
    if mapping is not None:
        return load_mapping(mapping, base)
    if base.name == "generic":
        raise InvalidInput("--format generic needs --mapping FILE (columns and value maps)")
    return base


def read_export(path: Path, fmt: Format, tz: ZoneInfo) -> list[TicketRow | RowProblem]:
    """Every row of the file parsed or named as a problem; a bad file or header raises."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise NotFound(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise InvalidInput(
            f"{path}: not a UTF-8 text file (export or save it as 'CSV UTF-8')"
        ) from None
    try:
        return list(read_rows(text, fmt, tz))
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc.message}") from None


def import_tickets(
    db: Database,
    path: Path,
    *,
    format: str,
    mapping: Path | None = None,
    batch_size: int = BATCH_SIZE,
    on_rows: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a PSA export file, one transaction per batch of rows.

    `on_rows(total)` is called once the file is read, `on_progress(n)` after each batch.
    """
    fmt = resolve_format(format, mapping)
    with db.unit_of_work() as session:
        tz = get_config(session).tz
    parsed = read_export(path, fmt, tz)
    report = ImportReport(file=str(path), format=fmt.name, rows=len(parsed))
    rows: list[TicketRow] = []
    for item in parsed:
        if isinstance(item, RowProblem):
            report.error(item.line, item.message)
        else:
            rows.append(item)
    if on_rows is not None:
        on_rows(len(parsed))
    if on_progress is not None and report.errors:
        on_progress(len(report.errors))
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        with db.unit_of_work() as session:
            import_ticket_rows(session, batch, fmt=fmt.name, report=report)
        if on_progress is not None:
            on_progress(len(batch))
    return report


def import_ticket_rows(
    session: Session, rows: Sequence[TicketRow], *, fmt: str, report: ImportReport
) -> None:
    """Store parsed rows (create or update by ticket number); row failures go to the report."""
    clients: dict[str, int] = {}
    for row in rows:
        created_before = len(report.clients_created)
        try:
            with session.begin_nested():
                outcome = _import_row(session, row, fmt, clients, report)
        except (FranchiseError, SQLAlchemyError) as exc:
            # The savepoint is rolled back, a client created for this row with it.
            del report.clients_created[created_before:]
            clients.clear()
            message = (
                exc.message
                if isinstance(exc, FranchiseError)
                else f"the database refused the row: {_first_line(exc)}"
            )
            report.error(row.line, message)
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)


def _first_line(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]


def _import_row(
    session: Session, row: TicketRow, fmt: str, clients: dict[str, int], report: ImportReport
) -> str:
    client_id = _client_id(session, row.client, clients, report)
    values = _values(row, client_id)
    ticket = session.scalar(
        select(Ticket).where(Ticket.source == SOURCE, Ticket.external_id == row.external_id)
    )
    if ticket is None:
        _create(session, row, client_id, fmt, values)
        return "imported"
    state = session.get(ImportState, ticket.id)
    previous = state.values if state is not None else None
    changes = _changes(ticket, row, values, previous, client_id)
    if state is None:
        session.add(ImportState(ticket_id=ticket.id, format=fmt, values=values))
    elif state.values != values:
        state.values, state.imported_at, state.format = values, utcnow(), fmt
    note = f"re-imported from the {fmt} export, line {row.line}"
    if changes:
        change_ticket(session, ticket, actor=None, note=note, **changes)
    # The PSA's requester, when it changed there since the last import (or the ticket moved
    # to another client, which drops a requester of the old one).
    requester_changed = previous is None or previous.get("requester") != values["requester"]
    if row.requester is not None and (requester_changed or "client_id" in changes):
        wanted = _requester_id(session, row, ticket.client_id)
        if (
            wanted is not None
            and wanted != ticket.requester_id
            and set_requester(session, ticket, wanted, actor=None, note=note)
        ):
            changes["requester"] = wanted
    if not changes:
        return "unchanged"
    refresh_escalation(session, ticket)
    return "updated"


def _create(
    session: Session, row: TicketRow, client_id: int | None, fmt: str, values: dict[str, Any]
) -> None:
    ticket, _ = create_with_runbook(
        session,
        title=row.title,
        body=row.body,
        client=client_id,
        requester=_requester_id(session, row, client_id),
        category=row.category,
        priority=row.priority,
        source=SOURCE,
        external_id=row.external_id,
        created_at=row.created_at,
    )
    refresh_escalation(session, ticket)
    if row.status != "new":
        note = f"status from the {fmt} export, line {row.line}"
        change_ticket(session, ticket, actor=None, note=note, **_status_change(row.status))
        refresh_escalation(session, ticket)
    session.add(ImportState(ticket_id=ticket.id, format=fmt, values=values))


def _requester_id(session: Session, row: TicketRow, client_id: int | None) -> int | None:
    """The client's contact the export names (by e-mail or name), added when missing."""
    if row.requester is None or client_id is None:
        return None
    client = get_client(session, client_id)
    try:
        return get_contact(session, client, row.requester).id
    except NotFound:
        pass
    except Conflict:
        return None  # several contacts share the name: leave it for a person to choose
    is_email = "@" in row.requester
    try:
        fields = ContactFields(
            name=row.requester.split("@")[0] if is_email else row.requester[:200],
            email=row.requester if is_email else None,
        )
        return add_contact(session, client, fields).id
    except InvalidInput as exc:
        raise InvalidInput(f"requester '{row.requester}': {exc.message}") from exc


def _values(row: TicketRow, client_id: int | None) -> dict[str, Any]:
    """What the export says, in the form kept for the next import to compare with."""
    return {
        "title": row.title,
        "body_sha256": hashlib.sha256(row.body.encode()).hexdigest(),
        "client_id": client_id,
        "category": row.category,
        "priority": row.priority,
        "status": row.status,
        "requester": row.requester,
    }


def _changes(
    ticket: Ticket,
    row: TicketRow,
    values: dict[str, Any],
    previous: dict[str, Any] | None,
    client_id: int | None,
) -> dict[str, Any]:
    """Fields the PSA changed since the last import and the ticket does not already have."""
    wanted: dict[str, Any] = {
        "title": row.title,
        "body": row.body,
        "client_id": client_id,
        "priority": row.priority,
        "status": row.status,
    }
    # An unmapped PSA category leaves the suggester's choice alone.
    if row.category is not None:
        wanted["category"] = row.category
    changes: dict[str, Any] = {}
    for name, value in wanted.items():
        key = "body_sha256" if name == "body" else name
        if previous is not None and previous.get(key) == values[key]:
            continue
        if getattr(ticket, name) != value:
            changes[name] = value
    if "status" in changes:
        changes.update(_status_change(changes["status"], ticket))
    return changes


def _status_change(status: str, ticket: Ticket | None = None) -> dict[str, Any]:
    changes: dict[str, Any] = {"status": status}
    now = utcnow()
    if status in ("resolved", "closed") and (ticket is None or ticket.resolved_at is None):
        changes["resolved_at"] = now
    if status == "closed" and (ticket is None or ticket.closed_at is None):
        changes["closed_at"] = now
    return changes


def _client_id(
    session: Session, name: str | None, cache: dict[str, int], report: ImportReport
) -> int | None:
    """The client with this name (any case), created when missing and named in the report."""
    if name is None:
        return None
    key = name.lower()
    if key not in cache:
        if len(name) > MAX_CLIENT_NAME:
            raise InvalidInput(f"client name longer than {MAX_CLIENT_NAME} characters")
        client = session.scalar(select(Client).where(func.lower(Client.name) == key))
        if client is None:
            client = add_client(session, name=name)
            report.clients_created.append(client.name)
        cache[key] = client.id
    return cache[key]
