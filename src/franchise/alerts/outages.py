"""Outage correlation: when at least N new alert groups (default 5) open for one client, or
one `site` label, within M minutes (default 10), they become the children of one outage
ticket instead of N tickets in the queue; later groups of that scope join it while it is
fresh. Children resolve into the parent: it shows which still fire and resolves with the
last. Thresholds: organisation settings `outage_alert_groups` (0: off) and
`outage_window_minutes`, overridden per client.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.alerts.models import AlertGroup, AlertOutage, Integration
from franchise.alerts.ticket_alerts import lines_of
from franchise.clients.models import Client
from franchise.clients.outage import outage_settings
from franchise.db import utcnow
from franchise.escalation.facts import OUTAGE_TAG
from franchise.orgsettings.service import get_setting
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note, change_ticket, create_ticket
from franchise.wording import plural

CLOSED = ("resolved", "closed")


@dataclass(frozen=True)
class Thresholds:
    groups: int  # 0: correlation off
    window: timedelta


def thresholds(
    session: Session, client_id: int | None, *, defaults: Thresholds | None = None
) -> Thresholds:
    """The client's thresholds: its own values, else the organisation's (`defaults`, when
    the caller has read them already)."""
    # Keyed reads (the session's identity map answers again within a transaction), not the
    # whole configuration: this runs for every new alert group.
    client = session.get(Client, client_id) if client_id is not None else None
    if defaults is None:
        if client is not None:
            own = outage_settings(session, client)
            return Thresholds(own.alert_groups, timedelta(minutes=own.window_minutes))
        groups = int(get_setting(session, "outage_alert_groups"))
        minutes = int(get_setting(session, "outage_window_minutes"))
        return Thresholds(groups, timedelta(minutes=minutes))
    if client is None:
        return defaults
    own_groups, own_minutes = client.outage_alert_groups, client.outage_window_minutes
    return Thresholds(
        defaults.groups if own_groups is None else own_groups,
        defaults.window if own_minutes is None else timedelta(minutes=own_minutes),
    )


def scope_of(client_id: int | None, site: str | None) -> str | None:
    """Where a group is counted: its site when the alert names one, else its client."""
    if site:
        return f"site:{site}"
    if client_id is not None:
        return f"client:{client_id}"
    return None


def correlate(
    session: Session, group: AlertGroup, at: datetime, limits: Thresholds
) -> tuple[AlertOutage, bool] | None:
    """Before a ticket is opened for `group` (whose client and site are set): the outage it
    joins (and whether that outage opened just now), or None for a ticket of its own."""
    scope = scope_of(group.client_id, group.site)
    if scope is None or limits.groups <= 0:
        return None
    since = at - limits.window
    outage = session.scalar(
        select(AlertOutage)
        .where(
            AlertOutage.scope == scope,
            AlertOutage.resolved_at.is_(None),
            AlertOutage.last_at >= since,
        )
        .order_by(AlertOutage.id.desc())
        .limit(1)
        .with_for_update()
    )
    if outage is not None:
        join(session, outage, [group], at)
        return outage, False
    same = AlertGroup.site == group.site if group.site else AlertGroup.client_id == group.client_id
    if group.site is None:
        same = same & AlertGroup.site.is_(None)
    recent = list(
        session.scalars(
            select(AlertGroup)
            .where(
                same,
                AlertGroup.first_seen >= since,
                AlertGroup.status == "firing",
                AlertGroup.outage_id.is_(None),
                AlertGroup.ticket_id.is_not(None),
                AlertGroup.id != group.id,
            )
            .order_by(AlertGroup.id)
        )
    )
    if len(recent) + 1 < limits.groups:
        return None
    return _open(session, scope, group, recent, at), True


def _open(
    session: Session, scope: str, group: AlertGroup, recent: list[AlertGroup], at: datetime
) -> AlertOutage:
    where = f"site {group.site}" if group.site else _client_name(session, group.client_id)
    ticket = create_ticket(
        session,
        title=f"Outage at {where}",
        body=(
            f"Many alerts at once for {where}: the alert groups are listed on this ticket "
            "(still firing, resolved); it resolves when the last of them does."
        ),
        client=group.client_id,
        priority="critical",
        source="alert",
        tags=["alert", OUTAGE_TAG],
    )
    outage = AlertOutage(
        scope=scope, client_id=group.client_id, ticket_id=ticket.id, opened_at=at, last_at=at
    )
    session.add(outage)
    session.flush()
    # The groups that opened tickets of their own before the threshold was reached: their
    # tickets close into the outage, so the queue shows the outage once.
    now = utcnow()
    for child in recent:
        own = session.get(Ticket, child.ticket_id) if child.ticket_id else None
        if own is not None and own.status not in CLOSED:
            change_ticket(
                session,
                own,
                actor=None,
                at=now,
                note=f"part of outage ticket #{ticket.id} ({where})",
                status="closed",
                closed_at=now,
            )
    join(session, outage, [*recent, group], at)
    return outage


def join(session: Session, outage: AlertOutage, groups: Sequence[AlertGroup], at: datetime) -> None:
    for group in groups:
        group.outage_id = outage.id
        group.ticket_id = outage.ticket_id
    outage.last_at = max(outage.last_at, at)
    session.flush()


def outage_of(session: Session, group: AlertGroup) -> AlertOutage | None:
    return session.get(AlertOutage, group.outage_id) if group.outage_id is not None else None


def refresh(session: Session, outage: AlertOutage) -> Ticket | None:
    """Show on the outage ticket its children: how many, which hosts, which still fire."""
    ticket = session.get(Ticket, outage.ticket_id) if outage.ticket_id else None
    if ticket is None:
        return None
    session.flush()
    children = list(
        session.execute(
            select(AlertGroup.title, AlertGroup.host, AlertGroup.status, AlertGroup.members).where(
                AlertGroup.outage_id == outage.id
            )
        )
    )
    firing, hosts = summary(children)
    label = plural(len(hosts), "host") if hosts else plural(len(children), "alert group")
    fields = dict(ticket.custom_fields or {})
    fields["outage_groups"] = len(children)
    fields["outage_firing"] = len(firing)
    fields["outage_hosts"] = len(hosts)
    fields["outage_still_firing"] = firing
    ticket.custom_fields = fields
    where = ticket.title.split(":", 1)[0]
    ticket.title = f"{where}: {label}"
    return ticket


def summary(
    children: Iterable[tuple[str, str | None, str, dict[str, Any] | None]],
) -> tuple[list[str], list[str]]:
    """What still fires ("host: title", sorted) and every host, of an outage's children
    (title, host, status, members). A notification group counts by its members: each of its
    alerts has its own host and status, and the group's own host is only its first's."""
    alerts = [
        line
        for title, host, status, members in children
        for line in lines_of(title, host, status, None, members)
    ]
    firing = sorted(a.label for a in alerts if a.status == "firing")
    return firing, sorted({a.host for a in alerts if a.host})


def child_resolved(
    session: Session, integration: Integration, outage: AlertOutage, at: datetime
) -> str:
    """A child group resolved: the parent shows it; with the last child, the outage ends."""
    ticket = refresh(session, outage)
    still = session.scalar(
        select(func.count())
        .select_from(AlertGroup)
        .where(AlertGroup.outage_id == outage.id, AlertGroup.status == "firing")
    )
    if still:
        return "resolved-into-outage"
    outage.resolved_at = at
    if ticket is None or ticket.status in CLOSED:
        return "outage-resolved"
    add_note(
        session,
        ticket,
        actor=None,
        kind="alert-resolved",
        note="Every alert of the outage has resolved.",
    )
    if integration.auto_resolve:
        now = utcnow()
        change_ticket(
            session,
            ticket,
            actor=None,
            at=now,
            note=f"auto-resolved: {integration.name} reports every alert of the outage resolved",
            status="resolved",
            resolved_at=now,
        )
    return "outage-resolved"


def _client_name(session: Session, client_id: int | None) -> str:
    client = session.get(Client, client_id) if client_id is not None else None
    return client.name if client is not None else "an unknown client"
