"""The open tickets' numbers for /metrics, by level."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.ops.metrics import Sample
from franchise.tickets.models import Ticket
from franchise.tickets.service import CLOSED


def ticket_gauges(session: Session) -> list[Sample]:
    rows = session.execute(
        select(Ticket.level, func.count())
        .where(Ticket.status.not_in(CLOSED))
        .group_by(Ticket.level)
    )
    by_level = {str(level): int(count) for level, count in rows}
    return [
        Sample(
            "franchise_tickets_open",
            "gauge",
            "Tickets not resolved or closed, by level.",
            [({"level": lv}, n) for lv, n in sorted(by_level.items())],
        ),
        # A ticket at the owner's level is an ask waiting on the owner: the number to keep low.
        Sample(
            "franchise_owner_waiting_tickets",
            "gauge",
            "Open tickets escalated to the owner, waiting on them.",
            [({}, by_level.get("owner", 0))],
        ),
    ]
