"""Logging owner contacts, one by one or from a CSV: each is stored with the drill it fell
in and opens its review item, so reading a review never writes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import get_staff
from franchise.contacts.csv_rows import MAX_MINUTES, read_rows
from franchise.contacts.models import CHANNELS, OUTCOMES, REASONS, OwnerContact
from franchise.contacts.service import check_choice, new_contact
from franchise.drills.items import review_item_for, review_items_for
from franchise.drills.windows import drill_at, drill_windows, drill_windows_for
from franchise.errors import FranchiseError, InvalidInput, NotFound
from franchise.orgsettings.service import OrgConfig
from franchise.tickets.models import Ticket
from franchise.tickets.service import get_ticket


def log_contact(
    session: Session,
    *,
    occurred_at: datetime,
    channel: str,
    reason: str,
    config: OrgConfig,
    ticket: Ticket | None = None,
    by: Staff | None = None,
    emergency: bool = False,
    minutes: int = 0,
    outcome: str = "interruption",
    question: str | None = None,
    answer: str | None = None,
    recorded_by: Staff | None = None,
) -> OwnerContact:
    """Record one contact; after-hours, the drill it fell in and its review item are worked
    out here. `recorded_by` is whoever logged it (kept apart from who contacted the owner)."""
    if occurred_at.tzinfo is None:
        raise InvalidInput("occurred_at needs a time zone (or use the organisation's local time)")
    check_choice(channel, CHANNELS, "channel")
    check_choice(reason, REASONS, "reason")
    check_choice(outcome, OUTCOMES, "outcome")
    if not 0 <= minutes <= MAX_MINUTES:
        raise InvalidInput(f"minutes must be from 0 to {MAX_MINUTES}, got {minutes}")
    contact = new_contact(
        occurred_at=occurred_at,
        channel=channel,
        reason=reason,
        outcome=outcome,
        ticket_id=ticket.id if ticket else None,
        staff_id=by.id if by else None,
        emergency=emergency,
        minutes=minutes,
        config=config,
        drill_id=drill_at(drill_windows_for(session, occurred_at), occurred_at),
    )
    contact.question, contact.answer = question, answer
    contact.recorded_by_id = recorded_by.id if recorded_by else (by.id if by else None)
    session.add(contact)
    session.flush()
    item = review_item_for(contact, config.tz)
    if item is not None:
        session.add(item)
        session.flush()
    return contact


def import_contacts(session: Session, path: Path, config: OrgConfig) -> dict[str, Any]:
    """Store every good row of a contacts CSV (with their review items); bad rows are reported
    by line, not stored.

    Returns {"imported": n, "errors": [{"line", "message"}]}. A bad header stores nothing
    and raises InvalidInput.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise NotFound(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: not a UTF-8 text file") from None
    try:
        parsed = list(read_rows(text, config.tz))
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc.message}") from None
    windows = drill_windows(session)
    staff_ids: dict[str, int] = {}
    ticket_ids: dict[str, int] = {}
    errors: list[dict[str, Any]] = []
    contacts: list[OwnerContact] = []
    for row in parsed:
        if isinstance(row, tuple):
            errors.append({"line": row[0], "message": row[1]})
            continue
        try:
            staff_id = _cached(staff_ids, row.by, lambda ref: get_staff(session, ref).id)
            ticket_id = _cached(ticket_ids, row.ticket, lambda ref: get_ticket(session, ref).id)
        except FranchiseError as exc:
            errors.append({"line": row.line, "message": exc.message})
            continue
        contacts.append(
            new_contact(
                occurred_at=row.occurred_at,
                channel=row.channel,
                reason=row.reason,
                outcome=row.outcome,
                ticket_id=ticket_id,
                staff_id=staff_id,
                emergency=row.emergency,
                minutes=row.minutes,
                config=config,
                drill_id=drill_at(windows, row.occurred_at),
            )
        )
    session.add_all(contacts)
    session.flush()
    session.add_all(review_items_for(contacts, config.tz))
    session.flush()
    return {"imported": len(contacts), "errors": errors}


def _cached(cache: dict[str, int], ref: str | None, load: Callable[[str], int]) -> int | None:
    if ref is None:
        return None
    if ref not in cache:
        cache[ref] = load(ref)
    return cache[ref]
