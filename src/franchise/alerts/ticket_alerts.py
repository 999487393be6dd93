"""The alerts behind a ticket, as its page lists them: which hosts, what, firing or resolved.

A ticket of one alert group has one alert; a notification group's ticket has each of its
alerts (its members, each with its own host and status); an outage ticket has the alerts of
every group linked to it. What is pure here (expanding a group into its alerts, counting
them) is also what the outage ticket's summary counts (outages.refresh).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from franchise.alerts.models import AlertGroup, AlertOutage

# Lines a ticket page shows; the rest are counted ("and 240 more").
SHOWN = 100


@dataclass(frozen=True)
class AlertLine:
    host: str | None
    title: str
    status: str  # firing | resolved | acknowledged
    at: datetime | None  # when its status was last set

    @property
    def label(self) -> str:
        return f"{self.host}: {self.title}" if self.host else self.title


@dataclass(frozen=True)
class TicketAlerts:
    lines: list[AlertLine]  # firing first, then by host and title; at most SHOWN
    firing: int
    resolved: int
    hosts: int
    groups: int
    more: int  # lines left out of `lines`

    @property
    def version(self) -> str:
        """Changes whenever what the card shows changes: a page polling for news sends the
        version it shows and is told "nothing new" while it still holds."""
        shown = (self.lines, self.firing, self.resolved, self.hosts, self.groups, self.more)
        return hashlib.sha256(repr(shown).encode()).hexdigest()[:16]


def lines_of(
    title: str,
    host: str | None,
    status: str,
    at: datetime | None,
    members: Mapping[str, Any] | None,
) -> list[AlertLine]:
    """A group's alerts: its members when it is a notification group, else itself."""
    if not members:
        return [AlertLine(host, title, status, at)]
    return [
        AlertLine(
            member.get("host"),
            member.get("title") or title,
            member.get("status") or status,
            _when(member.get("at")),
        )
        for member in members.values()
    ]


def summarise(lines: Iterable[AlertLine], groups: int, shown: int = SHOWN) -> TicketAlerts:
    ordered = sorted(lines, key=lambda a: (a.status != "firing", a.host or "", a.title))
    return TicketAlerts(
        lines=ordered[:shown],
        firing=sum(1 for a in ordered if a.status == "firing"),
        resolved=sum(1 for a in ordered if a.status == "resolved"),
        hosts=len({a.host for a in ordered if a.host}),
        groups=groups,
        more=max(len(ordered) - shown, 0),
    )


def ticket_alerts(session: Session, ticket_id: int) -> TicketAlerts | None:
    """The alerts of the groups whose ticket this is, or of the outage it stands for; None
    when no alert group leads to it (a ticket not opened by alerts)."""
    outage_ids = select(AlertOutage.id).where(AlertOutage.ticket_id == ticket_id)
    rows = list(
        session.execute(
            select(
                AlertGroup.title,
                AlertGroup.host,
                AlertGroup.status,
                AlertGroup.status_at,
                AlertGroup.members,
            ).where(or_(AlertGroup.ticket_id == ticket_id, AlertGroup.outage_id.in_(outage_ids)))
        )
    )
    if not rows:
        return None
    lines = [line for row in rows for line in lines_of(*row)]
    return summarise(lines, len(rows))


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
