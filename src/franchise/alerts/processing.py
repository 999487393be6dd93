"""Applying normalized alerts to alert groups and tickets: one open ticket per alert group.

Runs inside the caller's transaction (a batch of inbox items, each under its own savepoint),
so an item's ticket changes and its `done` mark commit together or not at all. What the
items of one batch share is in `Batch`: lookups made once, and the escalation decision of
each ticket opened in the batch refreshed once at its end rather than after every alert.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.alerts import outages, transitions
from franchise.alerts.models import AlertGroup, AlertOutage, Integration
from franchise.alerts.outage_message import outage_opened
from franchise.alerts.routing import Mapping, Route, mappings_for, route_alert
from franchise.clients.models import Client
from franchise.db import utcnow
from franchise.errors import NotFound
from franchise.escalation.definition import EscalationMap
from franchise.escalation.facts import FactsCache
from franchise.escalation.service import current_map, refresh_escalation
from franchise.integrations.normalized import PRIORITY_BY_SEVERITY, NormalizedAlert, clip
from franchise.suggest.index import SuggestIndex
from franchise.suggest.service import index_for
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note, change_ticket, create_ticket

CLOSED = ("resolved", "closed")
TRIAGE_TAG = "triage"


@dataclass
class Lookups:
    """What one drain reads once per claim (at most a few seconds of work) instead of once
    per transaction or per alert: the escalation map, the suggest index and the
    organisation's outage defaults. A change saved meanwhile applies from the next claim.
    Plain values only: they outlive the sessions of the transactions that use them."""

    escalation: EscalationMap | None = None
    index: SuggestIndex | None = None
    outage_defaults: outages.Thresholds | None = None
    mappings: dict[int, list[Mapping]] = field(default_factory=dict)
    facts: FactsCache = field(default_factory=FactsCache)
    # Runbook choices by (text, alert type): an alert firing again after its ticket closed
    # is not ranked again within the claim.
    suggestions: dict[tuple[str, str | None], AlertRunbook] = field(default_factory=dict)


@dataclass
class Batch:
    """The shared state of one processing transaction.

    `opened` is undone to a mark when an item's (or an alert's) savepoint rolls back, so
    the end of the batch refreshes only tickets that exist."""

    deadline: float = math.inf  # time.monotonic() after which no more alerts are begun
    # Bodies already parsed, by inbox item id, kept across the transactions of one drain: a
    # large item applied in parts is parsed once, not once per part.
    parsed: dict[int, list[tuple[int, NormalizedAlert]]] = field(default_factory=dict)
    lookups: Lookups = field(default_factory=Lookups)
    integrations: dict[int, Integration] = field(default_factory=dict)
    limits: dict[int | None, outages.Thresholds] = field(default_factory=dict)
    opened: list[Ticket] = field(default_factory=list)
    # Outages whose children changed: their tickets' summaries are rewritten once, at the end.
    changed: list[AlertOutage] = field(default_factory=list)
    # Outage tickets opened in the batch: the client is told once their summary is written.
    announce: list[Ticket] = field(default_factory=list)
    # The clients read in this transaction, held so the session's (weak) identity map keeps
    # them: the thresholds, the new ticket and its escalation facts read each one once.
    clients: dict[int, Client | None] = field(default_factory=dict)
    # Tickets of notification groups, held likewise: each of a group's alerts updates one.
    tickets: dict[int, Ticket] = field(default_factory=dict)
    # The groups of the current item's dedup keys, read ahead (integration id, key -> group
    # or None for no group yet); dropped when a savepoint rolls back.
    ahead: tuple[int, dict[str, AlertGroup | None]] | None = None

    def integration(self, session: Session, integration_id: int) -> Integration:
        found = self.integrations.get(integration_id)
        if found is None:
            found = session.get(Integration, integration_id)
            if found is None:  # inbox rows reference their integration; never deleted under one
                raise NotFound(f"integration {integration_id} of an inbox item no longer exists")
            self.integrations[integration_id] = found
        return found

    def route(self, session: Session, integration: Integration, alert: NormalizedAlert) -> Route:
        mappings = self.lookups.mappings.get(integration.id)
        if mappings is None:
            mappings = self.lookups.mappings[integration.id] = mappings_for(session, integration.id)
        route = route_alert(session, integration, alert, mappings=mappings)
        if route.client_id is not None and route.client_id not in self.clients:
            self.clients[route.client_id] = session.get(Client, route.client_id)
        return route

    def thresholds(self, session: Session, client_id: int | None) -> outages.Thresholds:
        found = self.limits.get(client_id)
        if found is None:
            if self.lookups.outage_defaults is None:
                self.lookups.outage_defaults = outages.thresholds(session, None)
            found = self.limits[client_id] = outages.thresholds(
                session, client_id, defaults=self.lookups.outage_defaults
            )
        return found

    def escalation(self, session: Session) -> EscalationMap:
        if self.lookups.escalation is None:
            self.lookups.escalation = current_map(session).map
        return self.lookups.escalation

    def suggest_index(self, session: Session) -> SuggestIndex:
        if self.lookups.index is None:
            self.lookups.index = index_for(session)
        return self.lookups.index

    def past_deadline(self) -> bool:
        return time.monotonic() >= self.deadline

    def mark(self) -> tuple[int, int, int]:
        return len(self.opened), len(self.changed), len(self.announce)

    def undo(self, mark: tuple[int, int, int]) -> None:
        self.ahead = None
        del self.opened[mark[0] :]
        del self.changed[mark[1] :]
        del self.announce[mark[2] :]

    def finish(self, session: Session) -> None:
        """Rewrite the summary of each outage changed in the batch and refresh the
        escalation decision of each ticket opened in it, once each; then tell the clients
        of the outages opened in it."""
        for outage in {o.id: o for o in self.changed}.values():
            outages.refresh(session, outage)
        self.changed.clear()
        for ticket in {t.id: t for t in self.announce}.values():
            outage_opened(session, ticket)
        self.announce.clear()
        tickets = list({t.id: t for t in self.opened}.values())
        # Opened in this transaction: no runbook run yet, and the covering runbooks of
        # their categories are looked up once for all of them.
        cache = self.lookups.facts
        cache.fresh = {t.id for t in tickets}
        for ticket in tickets:
            refresh_escalation(session, ticket, escalation=self.escalation(session), cache=cache)
        cache.fresh = set()
        self.opened.clear()
        session.flush()


def apply_alert(
    session: Session,
    integration: Integration,
    alert: NormalizedAlert,
    *,
    received_at: datetime,
    batch: Batch | None = None,
) -> str:
    """Apply one alert; returns what happened (opened, deduplicated, resolved, ...).

    Without a batch the new ticket's escalation is refreshed at once; with one, at the
    batch's end (`Batch.finish`)."""
    if integration.group_by == "group" and alert.group_key:
        return _apply_member(session, integration, alert, received_at, batch)
    group = _find_group(session, integration, alert.dedup_key, batch)
    if transitions.stale(group, alert.status, received_at):
        return "stale"
    if alert.status == "firing":
        return _fire(session, integration, alert, group, received_at, batch)
    if alert.status == "resolved":
        return _resolve(session, integration, alert, group, received_at, batch)
    return _acknowledge(session, alert, group, received_at)


def _apply_member(
    session: Session,
    integration: Integration,
    alert: NormalizedAlert,
    at: datetime,
    batch: Batch | None,
) -> str:
    """One alert of a notification group: the group is the ticket; its members (by the
    alert's fingerprint) say which alerts fire. The group resolves when none fires."""
    assert alert.group_key is not None
    as_group = replace(alert, dedup_key=alert.group_key, title=alert.group_title or alert.title)
    group = _find_group(session, integration, as_group.dedup_key, batch)
    members: dict[str, Any] = dict(group.members or {}) if group is not None else {}
    # Received before the event that last set this alert's status: it may add to the count
    # but never change the status back.
    if transitions.member_stale(members, alert.dedup_key, at):
        if alert.status == "firing" and group is not None:
            group.count += 1
        return "stale"
    if alert.status == "acknowledged":
        return _acknowledge(session, as_group, group, at)
    still_firing = (
        transitions.record_member(
            members, alert.dedup_key, alert.status, alert.title, alert.host, at
        )
        > 0
    )
    if group is not None:
        # Before an outage the group belongs to is summarised (outages.refresh): the
        # summary lists its members still firing.
        group.members = members
    if alert.status == "firing":
        outcome = _fire(session, integration, as_group, group, at, batch)
        group = _group(session, integration, as_group.dedup_key, batch)
    elif still_firing and group is not None:
        transitions.seen(group, at)
        outcome = "member-resolved"
    else:
        outcome = _resolve(session, integration, as_group, group, at, batch)
        group = _group(session, integration, as_group.dedup_key, batch)
    group.members = members
    if outcome == "member-resolved":
        outage = outages.outage_of(session, group)
        if outage is not None and outage.resolved_at is None:
            # The outage ticket lists its children's alerts still firing: one fewer now.
            _changed(session, outage, batch)
    ticket = session.get(Ticket, group.ticket_id) if group.ticket_id else None
    if ticket is not None:
        if batch is not None:
            # Held for the transaction: the group's next alert finds its ticket in the
            # session rather than reading it again (the identity map holds rows weakly).
            batch.tickets[ticket.id] = ticket
        if group.outage_id is None:  # an outage shows its own summary
            _mirror_count(ticket, group)
    return outcome


def _find_group(
    session: Session, integration: Integration, key: str, batch: Batch | None
) -> AlertGroup | None:
    """The group of a dedup key, locked: from the batch's read-ahead of the item's keys
    when it covers this one, else read now."""
    if batch is not None and batch.ahead is not None and batch.ahead[0] == integration.id:
        known = batch.ahead[1]
        if key in known:
            return known[key]
    return session.scalar(
        select(AlertGroup)
        .where(AlertGroup.integration_id == integration.id, AlertGroup.dedup_key == key)
        .with_for_update()
    )


def read_ahead(session: Session, integration: Integration, keys: list[str], batch: Batch) -> None:
    """Read (and lock) the groups of many dedup keys in one query, in key order: the alerts
    of an item then find theirs without a query each. A key without a group is remembered
    as such; `_new_group` records the group it inserts."""
    wanted = sorted(set(keys))
    found: dict[str, AlertGroup | None] = dict.fromkeys(wanted)
    for start in range(0, len(wanted), 500):
        for group in session.scalars(
            select(AlertGroup)
            .where(
                AlertGroup.integration_id == integration.id,
                AlertGroup.dedup_key.in_(wanted[start : start + 500]),
            )
            .order_by(AlertGroup.dedup_key)
            .with_for_update()
        ):
            found[group.dedup_key] = group
    batch.ahead = (integration.id, found)


def _group(session: Session, integration: Integration, key: str, batch: Batch | None) -> AlertGroup:
    """The group just written by this transaction. `_find_group` finds it in the batch's
    read-ahead (`_new_group`'s groups are remembered there) without a query, which would
    first flush the members written for every alert before it."""
    group = _find_group(session, integration, key, batch)
    assert group is not None
    return group


def _fire(
    session: Session,
    integration: Integration,
    alert: NormalizedAlert,
    group: AlertGroup | None,
    at: datetime,
    batch: Batch | None,
) -> str:
    route: Route | None = None
    if group is None:
        group = _new_group(integration, alert, "firing", at)
        _remember(batch, integration, group)
        # A new group opens a ticket (or joins an outage): routed now, so that it is
        # inserted with its client.
        route = _route(session, integration, alert, batch)
        group.client_id = route.client_id
        group.site = clip(alert.labels.get("site") or "", 255) or None
        session.add(group)
        # Flushed before the ticket exists: a concurrent worker inserting the same key fails
        # here (and retries the whole item), before either opened a ticket.
        session.flush()
    outage = outages.outage_of(session, group)
    if outage is not None and outage.resolved_at is None:
        # A child of an open outage: counted there, never a ticket of its own.
        transitions.fire(group, at, opened=False)
        _changed(session, outage, batch)
        return "deduplicated"
    if outage is not None:  # that outage is over: this group starts afresh
        group.outage_id = None
        group.ticket_id = None
    ticket = session.get(Ticket, group.ticket_id) if group.ticket_id else None
    if ticket is None or ticket.status in CLOSED:
        if route is None:
            route = _route(session, integration, alert, batch)
            group.client_id = route.client_id
            group.site = clip(alert.labels.get("site") or "", 255) or None
        limits = (
            batch.thresholds(session, route.client_id)
            if batch is not None
            else outages.thresholds(session, route.client_id)
        )
        joined = outages.correlate(session, group, at, limits)
        if joined is not None:
            outage, opened = joined
            transitions.fire(group, at, opened=True)
            parent = _changed(session, outage, batch)
            if opened and parent is not None:
                if batch is None:
                    refresh_escalation(session, parent)
                    outage_opened(session, parent)
                else:
                    batch.opened.append(parent)
                    batch.announce.append(parent)
            return "outage-opened" if opened else "outage-joined"
        previous = ticket
        ticket = _open_ticket(session, integration, alert, route, batch)
        if previous is not None:
            add_note(
                session,
                ticket,
                actor=None,
                kind="alert",
                note=f"This alert fired before; the previous ticket was #{previous.id}.",
            )
        group.ticket_id = ticket.id
        outcome = "opened"
    else:
        if group.status == "resolved":
            add_note(session, ticket, actor=None, kind="alert", note="The alert is firing again.")
        outcome = "deduplicated"
    transitions.fire(group, at, opened=outcome == "opened")
    _mirror_count(ticket, group)
    return outcome


def _route(
    session: Session, integration: Integration, alert: NormalizedAlert, batch: Batch | None
) -> Route:
    if batch is None:
        return route_alert(session, integration, alert)
    return batch.route(session, integration, alert)


def _changed(session: Session, outage: AlertOutage, batch: Batch | None) -> Ticket | None:
    """An outage's children changed: its summary now, or at the end of the batch."""
    if batch is not None:
        batch.changed.append(outage)
    else:
        outages.refresh(session, outage)
    return session.get(Ticket, outage.ticket_id) if outage.ticket_id else None


def _remember(batch: Batch | None, integration: Integration, group: AlertGroup) -> None:
    if batch is not None and batch.ahead is not None and batch.ahead[0] == integration.id:
        batch.ahead[1][group.dedup_key] = group


def _new_group(
    integration: Integration, alert: NormalizedAlert, status: str, at: datetime
) -> AlertGroup:
    """A group first seen at `at` (transitions.first_seen)."""
    return AlertGroup(
        integration_id=integration.id,
        dedup_key=alert.dedup_key,
        title=alert.title,
        severity=alert.severity,
        host=alert.host,
        **transitions.first_seen(status, at),
    )


def _resolve(
    session: Session,
    integration: Integration,
    alert: NormalizedAlert,
    group: AlertGroup | None,
    at: datetime,
    batch: Batch | None = None,
) -> str:
    if group is None:
        # Remembered, so that a firing event for the same alert received earlier but
        # processed later (by a parallel worker) does not open a ticket for a resolved alert.
        group = _new_group(integration, alert, "resolved", at)
        _remember(batch, integration, group)
        session.add(group)
        session.flush()
        return "ignored"
    if not transitions.resolve(group, at):
        return "duplicate"
    outage = outages.outage_of(session, group)
    if outage is not None and outage.resolved_at is None:
        return outages.child_resolved(session, integration, outage, at)
    ticket = session.get(Ticket, group.ticket_id) if group.ticket_id else None
    if ticket is None:
        return "resolved"
    add_note(
        session,
        ticket,
        actor=None,
        kind="alert-resolved",
        note=f"{integration.name} ({integration.kind}) reports the alert resolved.",
    )
    if integration.auto_resolve and ticket.status not in CLOSED:
        # The monitoring system confirms recovery itself, so the runbook's done list does
        # not gate this; the history says who resolved it and why.
        now = utcnow()
        change_ticket(
            session,
            ticket,
            actor=None,
            at=now,
            note=f"auto-resolved: {integration.name} reports the alert resolved",
            status="resolved",
            resolved_at=now,
        )
        return "auto-resolved"
    return "resolved"


def _acknowledge(
    session: Session, alert: NormalizedAlert, group: AlertGroup | None, at: datetime
) -> str:
    if group is None or group.ticket_id is None:
        return "ignored"
    transitions.seen(group, at)
    ticket = session.get(Ticket, group.ticket_id)
    if ticket is not None and ticket.status not in CLOSED:
        add_note(
            session, ticket, actor=None, kind="alert", note="Acknowledged in the monitoring tool."
        )
    return "acknowledged"


def _open_ticket(
    session: Session,
    integration: Integration,
    alert: NormalizedAlert,
    route: Route,
    batch: Batch | None,
) -> Ticket:
    index = index_for(session) if batch is None else batch.suggest_index(session)
    choice = alert_runbook(index, alert)
    tags = ["alert", f"alert:{integration.kind}"]
    if route.client_id is None:
        tags.append(TRIAGE_TAG)
    ticket = create_ticket(
        session,
        title=alert.title,
        body=ticket_body(integration, alert, route.why),
        client=route.client_id,
        category=choice.category,
        priority=PRIORITY_BY_SEVERITY.get(alert.severity, "normal"),
        source="alert",
        tags=tags,
        runbook_key=choice.key,
        runbook_source="suggestion" if choice.key else None,
        category_by_hand=False,
        suggested_runbook_key=choice.suggested,
        suggestion_confidence=choice.confidence,
    )
    if batch is None:
        refresh_escalation(session, ticket)
    else:
        batch.opened.append(ticket)
    return ticket


@dataclass(frozen=True)
class AlertRunbook:
    """The runbook fields of an alert's new ticket."""

    key: str | None  # attached
    category: str | None
    suggested: str | None
    confidence: float | None


def alert_runbook(index: SuggestIndex, alert: NormalizedAlert) -> AlertRunbook:
    """A runbook whose match.alert_types names the alert's type wins outright (when only one
    does, without ranking the text); else the text decides. Below the confidence threshold
    the runbook is only offered, as for any new ticket."""
    claimant = index.sole_claimant(alert.alert_type)
    if claimant is not None:
        return AlertRunbook(claimant.key, claimant.category, claimant.key, 1.0)
    match = index.match(f"{alert.title}\n{alert.body}", alert_type=alert.alert_type, limit=1)
    best = match.best if match.fits else None
    return AlertRunbook(
        best.key if best else None,
        best.category if best else None,
        match.best.key if match.best else None,
        round(match.confidence, 4) if match.best else None,
    )


def ticket_body(integration: Integration, alert: NormalizedAlert, why: str) -> str:
    lines = [alert.body] if alert.body else []
    lines.append("")
    lines.append(f"Alert from {integration.name} ({integration.kind}), severity {alert.severity}.")
    if alert.host:
        lines.append(f"Host: {alert.host}")
    if alert.alert_type:
        lines.append(f"Alert type: {alert.alert_type}")
    lines.append(f"Dedup key: {alert.dedup_key}")
    lines.append(f"Client: {why}")
    return "\n".join(lines).strip()


def _mirror_count(ticket: Ticket, group: AlertGroup) -> None:
    """Keep the group's count, last-seen time and (for a notification group) which of its
    alerts fire visible on the ticket itself."""
    ticket.custom_fields = mirrored_fields(
        ticket.custom_fields, group.id, group.count, group.last_seen, group.members
    )


def mirrored_fields(
    fields: dict[str, Any] | None,
    group_id: int | None,
    count: int,
    last_seen: datetime,
    members: dict[str, Any] | None,
) -> dict[str, Any]:
    """A ticket's custom fields with its group's count and last-seen time, and for a
    notification group which of its alerts fire (hosts and titles) and how many resolved:
    what a technician sees on the ticket itself. Both ways of applying alerts use it."""
    out = dict(fields or {})
    out["alert_group"] = group_id
    out["alert_count"] = count
    out["alert_last_seen"] = last_seen.isoformat()
    if members:
        firing = sorted(
            f"{m['host']}: {m['title']}" if m["host"] else m["title"]
            for m in members.values()
            if m["status"] == "firing"
        )
        out["alerts_firing"] = len(firing)
        out["alerts_resolved"] = len(members) - len(firing)
        out["alert_hosts"] = sorted({m["host"] for m in members.values() if m["host"]})
        out["alerts_still_firing"] = firing
    return out
