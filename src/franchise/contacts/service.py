"""Owner contacts: who may log what, the stored row, listing them, and the KPI report over them.

Logging and importing them (each in the drill it fell in, with its review item) is
drills.contact_log: drills build on contacts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from franchise.accounts.models import Staff
from franchise.contacts.counts import tally_in_database
from franchise.contacts.hours import is_after_hours, local_midnight, week_start
from franchise.contacts.kpi import OwnerWait, kpi_from_tally, window_start
from franchise.contacts.models import CHANNELS, OUTCOMES, REASONS, OwnerContact
from franchise.db import utcnow
from franchise.errors import InvalidInput, PermissionDenied
from franchise.orgsettings.service import OrgConfig, get_config
from franchise.tickets.models import Ticket, TicketEvent


def check_choice(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise InvalidInput(f"unknown {what} '{value}' (use {', '.join(allowed)})")
    return value


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


def new_contact(
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
