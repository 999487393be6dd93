"""The KPI's counts computed by the database: kpi.tally_contacts with GROUP BY queries.

At a large MSP the report's weeks hold thousands of contacts; reading each into Python cost
more than the rest of the dashboard. The weeks are the organisation's local weeks, so each
contact's week is found with a CASE over the weeks' start instants (computed here, in the
time zone, DST included), and the counts come back a few rows per week and per key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.clients.models import Client
from franchise.contacts.hours import local_midnight
from franchise.contacts.kpi import Tally, empty_tally, shown_weeks
from franchise.contacts.models import OwnerContact
from franchise.tickets.models import Ticket

C = OwnerContact
INTERRUPTION = C.outcome == "interruption"
AFTER_HOURS = func.sum(case((C.after_hours.is_(True), 1), else_=0))
MINUTES = func.coalesce(func.sum(C.minutes), 0)


def tally_in_database(session: Session, *, tz: ZoneInfo, now: datetime, weeks: int) -> Tally:
    tally = empty_tally(now, tz, weeks)
    all_weeks = list(tally.weekly)
    starts = [local_midnight(w, tz) for w in all_weeks]
    window = and_(C.occurred_at >= starts[0], C.occurred_at <= now)
    week_of = _week_index(starts)
    rows = session.execute(
        select(week_of, C.outcome, func.count(), AFTER_HOURS, MINUTES)
        .where(window)
        .group_by(week_of, C.outcome)
    )
    for index, outcome, n, after_hours, minutes in rows:
        bucket = tally.weekly[all_weeks[index]]
        if outcome != "interruption":
            bucket["deflections" if outcome == "deflection" else "refused"] += n
            continue
        bucket["interruptions"] += n
        bucket["after_hours"] += int(after_hours or 0)
        bucket["owner_minutes"] += int(minutes)

    shown = and_(C.occurred_at >= local_midnight(shown_weeks(now, tz, weeks)[0], tz), window)
    interruptions = and_(INTERRUPTION, shown)
    # Reason, channel and technician in one pass: a few rows per combination, folded here.
    people = session.execute(
        select(C.reason, C.channel, C.staff_id, func.count(), MINUTES)
        .where(interruptions)
        .group_by(C.reason, C.channel, C.staff_id)
    ).all()
    ids = {staff_id for _, _, staff_id, _, _ in people if staff_id is not None}
    names: dict[int | None, str] = {
        staff_id: name
        for staff_id, name in session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(ids)))
    }
    for reason, channel, staff_id, n, minutes in people:
        _add(tally, "reason", [(reason, n, minutes)])
        _add(tally, "channel", [(channel, n, minutes)])
        _add(tally, "technician", [(names.get(staff_id) or "unknown", n, minutes)])
    # Client and category in one pass over the contacts' tickets, folded into both keys.
    tickets = (
        select(C.ticket_id.is_(None), Client.name, Ticket.category, func.count(), MINUTES)
        .select_from(C)
        .outerjoin(Ticket, Ticket.id == C.ticket_id)
        .outerjoin(Client, Client.id == Ticket.client_id)
        .where(interruptions)
        .group_by(C.ticket_id.is_(None), Client.name, Ticket.category)
    )
    for no_ticket, client, category, n, minutes in session.execute(tickets):
        client_key = "none" if no_ticket else client or "none"
        category_key = "none" if no_ticket else category or "uncategorised"
        _add(tally, "client", [(client_key, n, minutes)])
        _add(tally, "category", [(category_key, n, minutes)])
    return tally


def _week_index(starts: Sequence[datetime]) -> Any:
    """The index of the week a contact falls in: the first week that ends after it (the
    report always has several weeks: the four averaged ones and the current one)."""
    whens = [(C.occurred_at < end, index) for index, end in enumerate(starts[1:])]
    return case(*whens, else_=len(starts) - 1)


def _add(tally: Tally, name: str, rows: Any) -> None:
    for key, n, minutes in rows:
        tally.breakdowns[name][str(key)] += int(n)
        tally.breakdown_minutes[name][str(key)] += int(minutes or 0)
