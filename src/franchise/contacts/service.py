"""Owner contacts: log them, import them, list them, and the KPI report over them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from franchise.accounts.models import Staff
from franchise.accounts.service import get_staff
from franchise.contacts.counts import tally_in_database
from franchise.contacts.csv_rows import MAX_MINUTES, read_rows
from franchise.contacts.hours import is_after_hours, local_midnight, week_start
from franchise.contacts.kpi import OwnerWait, kpi_from_tally, window_start
from franchise.contacts.models import CHANNELS, OUTCOMES, REASONS, OwnerContact
from franchise.db import utcnow
from franchise.drills.items import review_item_for, review_items_for
from franchise.drills.models import Drill
from franchise.errors import FranchiseError, InvalidInput, NotFound, PermissionDenied
from franchise.orgsettings.service import OrgConfig, get_config
from franchise.tickets.models import Ticket, TicketEvent
from franchise.tickets.service import get_ticket


@dataclass(frozen=True)
class DrillWindow:
    id: int
    starts_at: datetime
    until: datetime  # ends_at, or ended_at when the drill was stopped early

    def covers(self, when: datetime) -> bool:
        return self.starts_at <= when < self.until


def check_choice(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise InvalidInput(f"unknown {what} '{value}' (use {', '.join(allowed)})")
    return value


def _window(drill: Drill) -> DrillWindow:
    return DrillWindow(
        drill.id, drill.starts_at, min(drill.ends_at, drill.ended_at or drill.ends_at)
    )


def drill_windows(session: Session) -> list[DrillWindow]:
    """Every drill, latest first (drills are monthly: a short list)."""
    query = select(Drill).order_by(Drill.starts_at.desc(), Drill.id.desc())
    return [_window(d) for d in session.scalars(query)]


def drill_at(windows: Sequence[DrillWindow], when: datetime) -> int | None:
    """The drill running at `when` (the latest-started one if drills overlap)."""
    return next((w.id for w in windows if w.covers(when)), None)


def drill_windows_for(session: Session, when: datetime) -> list[DrillWindow]:
    """Drills scheduled over `when`; drill_at() then drops those stopped before it."""
    query = (
        select(Drill)
        .where(Drill.starts_at <= when, Drill.ends_at > when)
        .order_by(Drill.starts_at.desc(), Drill.id.desc())
    )
    return [_window(d) for d in session.scalars(query)]


# A technician may log their own call to the owner from earlier today; older entries, entries
# in someone else's name and other outcomes skew the KPI, so only managers make them.
SELF_BACKDATE = timedelta(hours=24)


def check_logging_rights(
    caller: Staff, *, by: Staff | None, occurred_at: datetime, outcome: str, now: datetime
) -> None:
    """Who may log what through the API: anyone their own interruption of the last day;
    the owner and admins (and their integration tokens) anything."""
    if caller.is_manager:
        return
    if by is not None and by.id != caller.id:
        raise PermissionDenied(
            "only the owner or an admin may log a contact in someone else's name"
        )
    if outcome != "interruption":
        raise PermissionDenied("only the owner or an admin may log a deflection or refusal")
    if occurred_at < now - SELF_BACKDATE or occurred_at > now + timedelta(minutes=5):
        raise PermissionDenied(
            "you may log a contact of the last 24 hours; older ones are logged by the owner or "
            "an admin"
        )


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
    contact = _new_contact(
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


def _new_contact(
    *,
    occurred_at: datetime,
    channel: str,
    reason: str,
    outcome: str,
    ticket_id: int | None,
    staff_id: int | None,
    emergency: bool,
    minutes: int,
    config: OrgConfig,
    drill_id: int | None,
) -> OwnerContact:
    return OwnerContact(
        occurred_at=occurred_at.astimezone(UTC),
        channel=channel,
        ticket_id=ticket_id,
        staff_id=staff_id,
        reason=reason,
        emergency=emergency,
        minutes=minutes,
        outcome=outcome,
        after_hours=is_after_hours(occurred_at, config.business_hours, config.tz),
        drill_id=drill_id,
        created_at=utcnow(),
    )


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
            _new_contact(
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


def list_contacts(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    outcome: str | None = None,
    channel: str | None = None,
    reason: str | None = None,
    staff: Staff | None = None,
    ticket: Ticket | None = None,
    drill_id: int | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[OwnerContact]:
    """Contacts, newest first."""
    query = select(OwnerContact)
    if since is not None:
        query = query.where(OwnerContact.occurred_at >= since)
    if until is not None:
        query = query.where(OwnerContact.occurred_at < until)
    if outcome is not None:
        query = query.where(OwnerContact.outcome == check_choice(outcome, OUTCOMES, "outcome"))
    if channel is not None:
        query = query.where(OwnerContact.channel == check_choice(channel, CHANNELS, "channel"))
    if reason is not None:
        query = query.where(OwnerContact.reason == check_choice(reason, REASONS, "reason"))
    if staff is not None:
        query = query.where(OwnerContact.staff_id == staff.id)
    if ticket is not None:
        query = query.where(OwnerContact.ticket_id == ticket.id)
    if drill_id is not None:
        query = query.where(OwnerContact.drill_id == drill_id)
    query = query.order_by(OwnerContact.occurred_at.desc(), OwnerContact.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def weeks_back(now: datetime, tz: ZoneInfo, weeks: int) -> datetime:
    """Local midnight on the Monday that starts the last `weeks` weeks (this one included)."""
    return local_midnight(week_start(now, tz) - timedelta(weeks=max(weeks, 1) - 1), tz)


def contact_dicts(session: Session, contacts: Sequence[OwnerContact]) -> list[dict[str, Any]]:
    """Contacts as JSON-ready dicts, with staff names loaded in one query."""
    staff_ids = {c.staff_id for c in contacts if c.staff_id is not None}
    names = (
        dict(session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(staff_ids))).all())
        if staff_ids
        else {}
    )
    return [
        {
            "id": c.id,
            "occurred_at": c.occurred_at.isoformat(),
            "channel": c.channel,
            "reason": c.reason,
            "outcome": c.outcome,
            "ticket_id": c.ticket_id,
            "by": names.get(c.staff_id) if c.staff_id is not None else None,
            "staff_id": c.staff_id,
            "emergency": c.emergency,
            "minutes": c.minutes,
            "after_hours": c.after_hours,
            "drill_id": c.drill_id,
            "question": c.question,
            "answer": c.answer,
        }
        for c in contacts
    ]


def kpi_report(session: Session, *, weeks: int = 8, now: datetime | None = None) -> dict[str, Any]:
    """The KPI over the last `weeks` weeks: counted by the database (counts.py), shaped by
    kpi.py."""
    if not 1 <= weeks <= 520:
        raise InvalidInput(f"weeks must be from 1 to 520, got {weeks}")
    config = get_config(session)
    tz = config.tz
    now = now or utcnow()
    since = window_start(now, tz, weeks)
    report = kpi_from_tally(
        tally_in_database(session, tz=tz, now=now, weeks=weeks),
        tz=tz,
        now=now,
        weeks=weeks,
        target_max=config.kpi_target_max,
        owner_waits=owner_waits(session, since=since, now=now),
    )
    report["org_name"] = config.org_name
    return report


def owner_waits(session: Session, *, since: datetime, now: datetime) -> list[OwnerWait]:
    """Waits on the owner that end after `since` (or have not ended) as of `now`.

    The same waits as kpi.owner_waits_from_events over the whole history, computed in the
    database: each wait's end is the first level or status change after it began, so only
    the waits the report shows come back, not every escalation ever made.
    """
    began = aliased(TicketEvent)
    rows = session.execute(
        select(began.ticket_id, began.at, _next_change(began, until=now))
        .where(began.field == "level", began.new_value == "owner", began.at <= now)
        # "No change by `since`" rather than "end > since": the end is then looked up only
        # for the waits kept (PostgreSQL would otherwise run the lookup twice per escalation).
        .where(_next_change(began, until=since).is_(None))
        # Escalations at one instant open a single wait, as in owner_waits_from_events.
        .distinct()
        .order_by(began.ticket_id, began.at)
    )
    return [OwnerWait(ticket_id, start, end) for ticket_id, start, end in rows]


def _next_change(began: Any, *, until: datetime) -> Any:
    """The ticket's first level or status change after `began`, up to `until` (or NULL)."""
    later = aliased(TicketEvent)
    return (
        select(func.min(later.at))
        .where(later.ticket_id == began.ticket_id, later.field.in_(("level", "status")))
        .where(later.at > began.at, later.at <= until)
        .scalar_subquery()
    )
