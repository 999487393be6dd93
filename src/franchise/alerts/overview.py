"""What the Integrations page shows: each integration with its client, when it last received a
webhook and how many of its bodies failed or were rejected, and the inbox's latest problems.

The inbox is never pruned (a busy integration stores millions of bodies), so every figure is
read from a bounded stretch of an index, never by counting or sorting all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.alerts.models import ClientMapping, InboxItem, Integration
from franchise.alerts.service import list_integrations, list_mappings
from franchise.clients.models import Client

# A failed body was retried until the worker gave up; a rejected one was malformed on arrival.
PROBLEM_STATES = ("failed", "rejected")
KIND_NAMES = {
    "alertmanager": "Prometheus Alertmanager",
    "pagerduty": "PagerDuty Events API v2",
    "zabbix": "Zabbix",
    "grafana": "Grafana",
    "uptimerobot": "UptimeRobot",
    "generic": "Generic JSON",
}
# An inbox error is at most 2,000 characters; the page shows the start of it.
ERROR_SHOWN = 400
# How many of the newest bodies "last webhook" is read from, and how many failed (and
# rejected) bodies are counted at most: both read an index a bounded way, whatever the
# inbox's size.
RECENT = 10_000
PROBLEMS_COUNTED = 10_000


@dataclass(frozen=True)
class LastWebhooks:
    at: dict[int, datetime]  # integration id: when its latest body arrived, if among RECENT
    # When the oldest of the RECENT bodies arrived: an integration not among them has sent
    # nothing since. None when the inbox holds fewer, so one not among them never sent.
    since: datetime | None


@dataclass(frozen=True)
class IntegrationRow:
    integration: Integration
    client: str | None
    last_received: datetime | None
    # With no last_received: it has sent nothing since this time (None: never sent).
    quiet_since: datetime | None
    problems: int  # failed or rejected bodies
    problems_capped: bool  # more than PROBLEMS_COUNTED of a state: `problems` is a floor


@dataclass(frozen=True)
class MappingRow:
    mapping: ClientMapping
    client: str | None
    integration: str | None  # None: the mapping applies to every integration


@dataclass(frozen=True)
class Problem:
    inbox_id: int
    received_at: datetime
    kind: str
    state: str
    integration: str
    error: str


def kind_name(kind: str) -> str:
    return KIND_NAMES.get(kind, kind)


def _client_names(session: Session) -> dict[int, str]:
    return {row.id: row.name for row in session.execute(select(Client.id, Client.name))}


def _integration_names(session: Session) -> dict[int, str]:
    return {row.id: row.name for row in session.execute(select(Integration.id, Integration.name))}


def integration_rows(session: Session) -> list[IntegrationRow]:
    """Every integration, active ones first, newest first within each."""
    integrations = sorted(
        list_integrations(session),
        key=lambda i: (i.revoked_at is not None, -i.id),
    )
    clients = _client_names(session)
    last = last_received(session)
    problems, capped = problem_counts(session)
    return [
        IntegrationRow(
            integration=i,
            client=clients.get(i.client_id) if i.client_id else None,
            last_received=last.at.get(i.id),
            quiet_since=_quiet_since(i, last),
            problems=problems.get(i.id, 0),
            problems_capped=capped,
        )
        for i in integrations
    ]


def _quiet_since(integration: Integration, last: LastWebhooks) -> datetime | None:
    if integration.id in last.at or last.since is None or integration.created_at >= last.since:
        return None  # a time, or never: it did not exist before the bodies read
    return last.since


def last_received(session: Session) -> LastWebhooks:
    """When each integration's latest body arrived, read from the newest RECENT bodies.

    The inbox has no index by integration and time: a max(id) per integration is a seek on
    SQLite but, on PostgreSQL, a walk over every body of a quiet integration (or over every
    body since its last one). The newest bodies come straight off the primary key."""
    recent = (
        select(InboxItem.id, InboxItem.integration_id)
        .order_by(InboxItem.id.desc())
        .limit(RECENT)
        .subquery()
    )
    latest = {
        row.integration_id: row.last
        for row in session.execute(
            select(recent.c.integration_id, func.max(recent.c.id).label("last")).group_by(
                recent.c.integration_id
            )
        )
    }
    read, oldest = session.execute(select(func.count(), func.min(recent.c.id))).one()
    wanted = [*latest.values(), *([oldest] if oldest is not None else [])]
    times = {
        row.id: row.received_at
        for row in session.execute(
            select(InboxItem.id, InboxItem.received_at).where(InboxItem.id.in_(wanted))
        )
    }
    return LastWebhooks(
        at={integration_id: times[item_id] for integration_id, item_id in latest.items()},
        # Fewer than RECENT bodies in all: the window is the whole inbox.
        since=times[oldest] if read >= RECENT and oldest is not None else None,
    )


def problem_counts(session: Session) -> tuple[dict[int, int], bool]:
    """Failed and rejected bodies by integration, and whether there were more than could be
    counted: each state's newest PROBLEMS_COUNTED, read through the (state, id) index."""
    counts: dict[int, int] = {}
    capped = False
    for state in PROBLEM_STATES:
        newest = (
            select(InboxItem.integration_id)
            .where(InboxItem.state == state)
            .order_by(InboxItem.id.desc())
            .limit(PROBLEMS_COUNTED)
            .subquery()
        )
        total = 0
        for integration_id, count in session.execute(
            select(newest.c.integration_id, func.count()).group_by(newest.c.integration_id)
        ):
            counts[integration_id] = counts.get(integration_id, 0) + int(count)
            total += int(count)
        capped = capped or total >= PROBLEMS_COUNTED
    return counts, capped


def recent_problems(session: Session, limit: int = 20) -> list[Problem]:
    """The latest failed or rejected bodies, newest first, without their bodies or headers.

    One query per state, each walking the (state, id) index backwards: an IN over both
    states sorted by id could make the database read every done row to find a rare one."""
    names = _integration_names(session)
    found = [
        Problem(
            inbox_id=row.id,
            received_at=row.received_at,
            kind=row.kind,
            state=row.state,
            integration=names.get(row.integration_id, f"#{row.integration_id}"),
            error=_shorten(row.error or ""),
        )
        for state in PROBLEM_STATES
        for row in session.execute(
            select(
                InboxItem.id,
                InboxItem.received_at,
                InboxItem.kind,
                InboxItem.state,
                InboxItem.integration_id,
                InboxItem.error,
            )
            .where(InboxItem.state == state)
            .order_by(InboxItem.id.desc())
            .limit(limit)
        )
    ]
    found.sort(key=lambda problem: problem.inbox_id, reverse=True)
    return found[:limit]


def _shorten(text: str) -> str:
    return text if len(text) <= ERROR_SHOWN else text[: ERROR_SHOWN - 1].rstrip() + "…"


def mapping_rows(session: Session) -> list[MappingRow]:
    """The alert-to-client mappings in the order they were added."""
    clients = _client_names(session)
    names = _integration_names(session)
    return [
        MappingRow(
            mapping=m,
            client=clients.get(m.client_id),
            integration=names.get(m.integration_id) if m.integration_id else None,
        )
        for m in list_mappings(session)
    ]
