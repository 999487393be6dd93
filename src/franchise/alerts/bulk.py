"""Applying a run of inbox items in a few statements: the common case of an alert storm.

The one-by-one path (`processing.apply_alert`) reads and writes each alert's group and
ticket through the ORM: about ten statements, a flush and a suggest per new ticket. Here
the items of one transaction are planned in memory first (their groups, the groups'
tickets, the host names' endpoints and the clients read with one query each), then written
with one multi-row INSERT or executemany UPDATE per table. What is written is what the
one-by-one path writes (tests/alerts/test_bulk.py compares the two). This module reads and
plans; the plan's state is in `bulk_plan.py`, its writing in `bulk_write.py`.

Only what plans without surprises is taken: a group that opens a ticket of its own or adds
to one (grouped by alert or by notification group), or counts as a child of an open outage;
not one that opens or joins an outage, resolves an outage's child or resolves an open
ticket automatically, nor a title a ticket refuses. The first item needing more ends the
run (`NotBulk`); it and the items after it take the one-by-one path in the same
transaction. All of it is one savepoint: should anything fail (a parallel worker inserted
the same group, text the database refuses, a bug), it rolls back and the items take the
one-by-one path, whose per-item and per-alert savepoints say which item or alert failed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.alerts import outages, transitions
from franchise.alerts.bulk_plan import (
    CHUNK,
    GROUPS,
    ITEMS,
    OUTAGES,
    TICKETS,
    NotBulk,
    Part,
    Plan,
    PlannedGroup,
    PlannedTicket,
    Recent,
)
from franchise.alerts.bulk_write import write_plan
from franchise.alerts.models import Integration
from franchise.alerts.processing import (
    CLOSED,
    TRIAGE_TAG,
    AlertRunbook,
    Batch,
    alert_runbook,
    ticket_body,
)
from franchise.alerts.routing import Route, endpoint_owners, mappings_for, route_alert
from franchise.clients.models import Client
from franchise.db import utcnow
from franchise.integrations.normalized import PRIORITY_BY_SEVERITY, NormalizedAlert, clip
from franchise.runbooks.definition import CATEGORIES


def read_parts(
    session: Session, ids: list[int], worker: str, batch: Batch, cap: int
) -> tuple[list[Part | None], bool]:
    """The claimed items still ours (locked), each with its alerts to apply, up to `cap`
    alerts in all; None for an item no longer ours. Stops before an item whose body did not
    parse (the one-by-one path records why). The flag says whether `cap` ended the run."""
    found = {
        row.id: row
        for row in session.execute(
            select(
                ITEMS.c.id,
                ITEMS.c.integration_id,
                ITEMS.c.received_at,
                ITEMS.c.state,
                ITEMS.c.claimed_by,
                ITEMS.c.progress,
                ITEMS.c.alert_errors,
            )
            .where(ITEMS.c.id.in_(ids))
            .order_by(ITEMS.c.id)
            .with_for_update()
        )
    }
    parts: list[Part | None] = []
    room = cap
    for item_id in ids:
        # Full first: the caller re-queues from the last part, so a part cut short must
        # stay last (an item taken by another worker after it would hide it).
        if room <= 0:
            return parts, True
        row = found.get(item_id)
        if row is None or row.state != "processing" or row.claimed_by != worker:
            parts.append(None)
            continue
        alerts = batch.parsed.get(item_id)
        if alerts is None:
            break  # the one-by-one path parses it again and records why it fails
        integration = batch.integration(session, row.integration_id)
        end = min(len(alerts), row.progress + room)
        room -= end - row.progress
        parts.append(
            Part(
                row.id,
                integration,
                row.received_at,
                alerts,
                row.progress,
                end,
                row.alert_errors,
            )
        )
    return parts, room <= 0


def apply_parts(session: Session, parts: list[Part], batch: Batch) -> int:
    """Apply the parts in a few statements; returns how many of them (from the first) were
    applied. The rest need the one-by-one path (`NotBulk` for one of their alerts)."""
    if not parts:
        return 0
    by_integration: dict[int, set[str]] = {}
    hosts: set[str | None] = set()
    for part in parts:
        keys = by_integration.setdefault(part.integration.id, set())
        for _, alert in part.alerts[part.start : part.end]:
            keys.add(group_key(part.integration, alert))
            if alert.status == "firing":
                hosts.add(alert.host)
    rows = _read_groups(session, by_integration)
    tickets = _read_tickets(session, [r.ticket_id for r in rows.values() if r.ticket_id])
    outage_rows = _read_outages(session, [r.outage_id for r in rows.values() if r.outage_id])
    owners = endpoint_owners(session, hosts)
    now = utcnow()
    routes: dict[int, Route] = {}
    recent = _prefetch_clients(session, batch, parts, rows, tickets, owners, routes)
    limit = len(parts)
    while True:
        plan = Plan(
            session,
            batch,
            rows,
            tickets,
            owners,
            now,
            routes=routes,
            recent=recent,
            outages=outage_rows,
        )
        stopped = None
        for position, part in enumerate(parts[:limit]):
            try:
                part.outcomes = [
                    _apply(plan, part.integration, alert, part.received_at)
                    for _, alert in part.alerts[part.start : part.end]
                ]
            except NotBulk:
                stopped = position
                break
        if stopped is None:
            break
        if stopped == 0:
            return 0
        limit = stopped  # planned again without it: what its alerts changed is undone
    write_plan(session, plan, batch)
    return limit


def group_key(integration: Integration, alert: NormalizedAlert) -> str:
    """The key of the group an alert counts in: its notification group's when the
    integration groups by notification group (and the body names one), else its own."""
    if integration.group_by == "group" and alert.group_key:
        return alert.group_key
    return alert.dedup_key


def _read_groups(session: Session, keys: dict[int, set[str]]) -> dict[tuple[int, str], Any]:
    """The groups of the keys, locked, in key order (parallel workers lock in the same
    order, so they wait for each other rather than deadlock)."""
    found: dict[tuple[int, str], Any] = {}
    columns = list(GROUPS.c)
    for integration_id, wanted in sorted(keys.items()):
        ordered = sorted(wanted)
        for start in range(0, len(ordered), CHUNK):
            for row in session.execute(
                select(*columns)
                .where(
                    GROUPS.c.integration_id == integration_id,
                    GROUPS.c.dedup_key.in_(ordered[start : start + CHUNK]),
                )
                .order_by(GROUPS.c.dedup_key)
                .with_for_update()
            ):
                found[(integration_id, row.dedup_key)] = row
    return found


def _read_tickets(session: Session, ids: list[int]) -> dict[int, Any]:
    return _read_by_id(session, [TICKETS.c.id, TICKETS.c.status, TICKETS.c.custom_fields], ids)


def _read_outages(session: Session, ids: list[int]) -> dict[int, Any]:
    return _read_by_id(session, [OUTAGES.c.id, OUTAGES.c.ticket_id, OUTAGES.c.resolved_at], ids)


def _read_by_id(session: Session, columns: list[Any], ids: list[int]) -> dict[int, Any]:
    """Rows of one table by id (its first column), a few hundred ids per query."""
    key = columns[0]
    wanted = sorted(set(ids))
    found: dict[int, Any] = {}
    for start in range(0, len(wanted), CHUNK):
        for row in session.execute(select(*columns).where(key.in_(wanted[start : start + CHUNK]))):
            found[row.id] = row
    return found


def _apply(plan: Plan, integration: Integration, alert: NormalizedAlert, at: datetime) -> str:
    if integration.group_by == "group" and alert.group_key:
        return _apply_member(plan, integration, alert, at)
    group = plan.group(integration, alert.dedup_key)
    if transitions.stale(group, alert.status, at):
        if group is not None and alert.status == "firing":
            group.changed = True  # counted
        return "stale"
    if alert.status == "firing":
        return _fire(plan, integration, alert, group, at)
    if alert.status == "resolved":
        return _resolve(plan, integration, alert, group, at)
    return _acknowledge(plan, group, at)


def _apply_member(
    plan: Plan, integration: Integration, alert: NormalizedAlert, at: datetime
) -> str:
    """processing._apply_member: one alert of a notification group, whose members (by the
    alert's fingerprint) say which of its alerts fire."""
    assert alert.group_key is not None
    as_group = replace(alert, dedup_key=alert.group_key, title=alert.group_title or alert.title)
    group = plan.group(integration, as_group.dedup_key)
    members: dict[str, Any] = {}
    if group is not None and group.members is not None:
        members = group.members  # the plan's copy (Plan.group)
    if transitions.member_stale(members, alert.dedup_key, at):
        if alert.status == "firing" and group is not None:
            group.count += 1
            group.changed = True
        return "stale"
    if alert.status == "acknowledged":
        return _acknowledge(plan, group, at)
    current = plan.ticket_of(group) if group is not None else None
    if current is not None and current.status in CLOSED:
        # The group may leave it for a new ticket: its mirror is worked out now, from the
        # members as they were.
        current.settle()
    firing = transitions.record_member(
        members,
        alert.dedup_key,
        alert.status,
        alert.title,
        alert.host,
        at,
        group.firing if group is not None else 0,
    )
    still_firing = firing > 0
    if alert.status == "firing":
        outcome = _fire(plan, integration, as_group, group, at, routed=alert)
    elif still_firing and group is not None:
        transitions.seen(group, at)
        outcome = "member-resolved"
    else:
        outcome = _resolve(plan, integration, as_group, group, at)
    group = plan.groups[(integration.id, as_group.dedup_key)]
    assert group is not None  # read, or created by _fire or _resolve
    group.members = members
    group.firing = firing
    group.changed = True
    if outcome == "member-resolved" and plan.open_outage(group):
        assert group.outage_id is not None
        plan.outages_changed.add(group.outage_id)
    ticket = plan.ticket_of(group)
    if ticket is not None and group.outage_id is None:  # an outage shows its own summary
        _mirror_count(ticket, group)
    return outcome


def _fire(
    plan: Plan,
    integration: Integration,
    alert: NormalizedAlert,
    group: PlannedGroup | None,
    at: datetime,
    *,
    routed: NormalizedAlert | None = None,
) -> str:
    """`routed`: the alert as received, when `alert` is its notification group's view (the
    same labels, host and client: the route found for it before the plan is used)."""
    route: Route | None = None
    if group is None:
        group = plan.new_group(integration, alert, "firing", at)
        route = plan.route(integration, routed or alert)
        group.client_id = route.client_id
        group.site = clip(alert.labels.get("site") or "", 255) or None
    group.changed = True
    if plan.open_outage(group):
        # A child of an open outage: counted there, never a ticket of its own.
        assert group.outage_id is not None
        transitions.fire(group, at, opened=False)
        plan.outages_changed.add(group.outage_id)
        return "deduplicated"
    if group.outage_id in plan.outages:  # that outage is over: this group starts afresh
        group.outage_id = None
        group.ticket_id = None
    ticket = plan.ticket_of(group)
    if ticket is None or ticket.status in CLOSED:
        if route is None:
            route = plan.route(integration, routed or alert)
            group.client_id = route.client_id
            group.site = clip(alert.labels.get("site") or "", 255) or None
        _no_outage(plan, group, at)
        previous = ticket
        ticket = _open_ticket(plan, integration, alert, route, group)
        if previous is not None:
            plan.note(
                ticket, "alert", f"This alert fired before; the previous ticket was #{previous.id}."
            )
        group.opened = ticket
        scope = outages.scope_of(group.client_id, group.site)
        if scope is not None:
            plan.ticketed.setdefault(scope, []).append(group)
        outcome = "opened"
    else:
        if group.status == "resolved":
            plan.note(ticket, "alert", "The alert is firing again.")
        outcome = "deduplicated"
    transitions.fire(group, at, opened=outcome == "opened")
    _mirror_count(ticket, group)
    return outcome


def _no_outage(plan: Plan, group: PlannedGroup, at: datetime) -> None:
    """outages.correlate's answer, when it is None: the group opens a ticket of its own. Its
    other answers (join an outage, open one) take the one-by-one path."""
    scope = outages.scope_of(group.client_id, group.site)
    limits = plan.batch.thresholds(plan.session, group.client_id)
    if scope is None or limits.groups <= 0:
        return
    since = at - limits.window
    recent = plan.recent
    if recent is None or scope not in recent.read:
        raise NotBulk("outage correlation not read for this scope")
    last_at = recent.outages.get(scope)
    if last_at is not None and last_at >= since:
        raise NotBulk("joins an outage")
    seen: set[int] = set()
    count = 0
    for row in recent.groups.get(scope, []):
        current = plan.groups.get((row.integration_id, row.dedup_key), row)
        seen.add(id(current))
        if current is not group and _counts(current, scope, since):
            count += 1
    for other in plan.ticketed.get(scope, []):
        if id(other) not in seen and other is not group and _counts(other, scope, since):
            count += 1
    if count + 1 >= limits.groups:
        raise NotBulk("opens an outage")


def _counts(group: Any, scope: str, since: datetime) -> bool:
    """A recent firing group with a ticket of its own, in the scope (outages.correlate)."""
    if group is None:
        return False
    has_ticket = group.ticket_id is not None or getattr(group, "opened", None) is not None
    return (
        has_ticket
        and group.status == "firing"
        and group.outage_id is None
        and group.first_seen >= since
        and outages.scope_of(group.client_id, group.site) == scope
    )


def _resolve(
    plan: Plan,
    integration: Integration,
    alert: NormalizedAlert,
    group: PlannedGroup | None,
    at: datetime,
) -> str:
    if group is None:
        plan.new_group(integration, alert, "resolved", at)
        return "ignored"
    group.changed = True
    if not transitions.resolve(group, at):
        return "duplicate"
    if plan.open_outage(group):
        raise NotBulk("a child of an outage resolves")
    ticket = plan.ticket_of(group)
    if ticket is None:
        return "resolved"
    plan.note(
        ticket,
        "alert-resolved",
        f"{integration.name} ({integration.kind}) reports the alert resolved.",
    )
    if integration.auto_resolve and ticket.status not in CLOSED:
        raise NotBulk("auto-resolve")
    return "resolved"


def _acknowledge(plan: Plan, group: PlannedGroup | None, at: datetime) -> str:
    if group is None or (group.ticket_id is None and group.opened is None):
        return "ignored"
    group.changed = True
    transitions.seen(group, at)
    ticket = plan.ticket_of(group)
    if ticket is not None and ticket.status not in CLOSED:
        plan.note(ticket, "alert", "Acknowledged in the monitoring tool.")
    return "acknowledged"


def _open_ticket(
    plan: Plan, integration: Integration, alert: NormalizedAlert, route: Route, group: PlannedGroup
) -> PlannedTicket:
    title = alert.title.strip()
    if not title:
        raise NotBulk("no title")  # create_ticket refuses it; that alert fails alone there
    choice = _suggest(plan.batch, plan.session, alert)
    if choice.category is not None and choice.category not in CATEGORIES:
        raise NotBulk("a runbook of an unknown category")
    tags = ["alert", f"alert:{integration.kind}"]
    if route.client_id is None:
        tags.append(TRIAGE_TAG)
    row = {
        "title": title,
        "body": ticket_body(integration, alert, route.why),
        "client_id": route.client_id,
        "requester_id": None,
        "category": choice.category,
        "priority": PRIORITY_BY_SEVERITY.get(alert.severity, "normal"),
        "source": "alert",
        "external_id": None,
        "tags": tags,
        "created_at": plan.now,
        "updated_at": plan.now,
        "runbook_key": choice.key,
        "runbook_source": "suggestion" if choice.key else None,
        "category_by_hand": False,
        "suggested_runbook_key": choice.suggested,
        "suggestion_confidence": choice.confidence,
    }
    ticket = PlannedTicket(None, "new", {}, row=row, group=group)
    plan.opened.append(ticket)
    return ticket


def _suggest(batch: Batch, session: Session, alert: NormalizedAlert) -> AlertRunbook:
    """The runbook choice for an alert (processing.alert_runbook); an alert repeated after
    its ticket closed (or the same text from another integration) is not ranked twice in
    one claim."""
    key = (f"{alert.title}\n{alert.body}", alert.alert_type)
    found = batch.lookups.suggestions.get(key)
    if found is None:
        found = batch.lookups.suggestions[key] = alert_runbook(batch.suggest_index(session), alert)
    return found


def _mirror_count(ticket: PlannedTicket, group: PlannedGroup) -> None:
    """processing._mirror_count, due: worked out by `PlannedTicket.settle` when the plan is
    written; the group's id is filled in once known."""
    ticket.group = group
    ticket.fields_changed = True
    ticket.mirror = (group.count, group.last_seen)


def _prefetch_clients(
    session: Session,
    batch: Batch,
    parts: list[Part],
    rows: dict[tuple[int, str], Any],
    tickets: dict[int, Any],
    owners: dict[str, set[int]],
    routes: dict[int, Route],
) -> Recent:
    """Route the firing alerts that may open a ticket (no group yet, or no open ticket) and
    read their clients in one query, held by the batch: the outage thresholds and the
    escalation facts of each new ticket then find the client in the session. Returns what
    outage correlation needs to know of those alerts' clients and sites."""
    wanted: set[int] = set()
    recent_keys: dict[str, set[int | None]] = {}  # scope -> the clients of its alerts
    scopes: dict[str, datetime] = {}  # scope -> the earliest receipt time of its alerts
    for part in parts:
        mappings = batch.lookups.mappings.get(part.integration.id)
        if mappings is None:
            mappings = batch.lookups.mappings[part.integration.id] = mappings_for(
                session, part.integration.id
            )
        for _, alert in part.alerts[part.start : part.end]:
            if alert.status != "firing":
                continue
            row = rows.get((part.integration.id, group_key(part.integration, alert)))
            ticket = tickets.get(row.ticket_id) if row is not None and row.ticket_id else None
            if ticket is not None and ticket.status not in CLOSED:
                continue
            route = routes[id(alert)] = route_alert(
                session, part.integration, alert, mappings=mappings, owners=owners
            )
            if route.client_id is not None and route.client_id not in batch.clients:
                wanted.add(route.client_id)
            site = clip(alert.labels.get("site") or "", 255) or None
            scope = outages.scope_of(route.client_id, site)
            if scope is not None:
                if scope not in scopes or part.received_at < scopes[scope]:
                    scopes[scope] = part.received_at
                recent_keys.setdefault(scope, set()).add(route.client_id)
    ordered = sorted(wanted)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        for client in session.scalars(select(Client).where(Client.id.in_(chunk))):
            batch.clients[client.id] = client
    return _read_recent(session, batch, scopes, recent_keys)


def _read_recent(
    session: Session,
    batch: Batch,
    scopes: dict[str, datetime],
    clients_of: dict[str, set[int | None]],
) -> Recent:
    """What `_no_outage` needs, for the scopes where correlation is on: from the earliest
    alert of the scope back by the widest window of the clients of its alerts."""
    recent = Recent()
    since: dict[str, datetime] = {}
    for scope, first in scopes.items():
        windows = [
            limits.window
            for client_id in clients_of[scope]
            if (limits := batch.thresholds(session, client_id)).groups > 0
        ]
        if windows:
            since[scope] = first - max(windows)
    if not since:
        return recent
    oldest = min(since.values())
    names = sorted(since)
    recent.read = set(names)
    for start in range(0, len(names), CHUNK):
        chunk = names[start : start + CHUNK]
        for scope, last_at in session.execute(
            select(OUTAGES.c.scope, func.max(OUTAGES.c.last_at))
            .where(OUTAGES.c.scope.in_(chunk), OUTAGES.c.resolved_at.is_(None))
            .group_by(OUTAGES.c.scope)
        ):
            recent.outages[scope] = last_at
    clients = sorted(int(s[len("client:") :]) for s in names if s.startswith("client:"))
    sites = sorted(s[len("site:") :] for s in names if s.startswith("site:"))
    columns = [c for c in GROUPS.c if c.key != "members"]
    for values, column, site_null in (
        (clients, GROUPS.c.client_id, True),
        (sites, GROUPS.c.site, False),
    ):
        for start in range(0, len(values), CHUNK):
            for row in session.execute(
                select(*columns).where(
                    column.in_(values[start : start + CHUNK]),
                    GROUPS.c.site.is_(None) if site_null else GROUPS.c.site.is_not(None),
                    GROUPS.c.first_seen >= oldest,
                    GROUPS.c.status == "firing",
                    GROUPS.c.outage_id.is_(None),
                    GROUPS.c.ticket_id.is_not(None),
                )
            ):
                found = outages.scope_of(row.client_id, row.site)
                if found is not None:
                    recent.groups.setdefault(found, []).append(row)
    return recent


@dataclass
class Pace:
    """How many alerts one bulk transaction takes: the rate measured so far in this drain
    times the transaction budget, so a transaction holds SQLite's write lock about as long
    as the one-by-one path's deadline allows."""

    rate: float = 250.0  # alerts per second, until measured

    def cap(self, budget: float) -> int:
        return max(1, int(self.rate * budget))

    def measured(self, alerts: int, seconds: float, cap: int) -> None:
        """Learn from a transaction of `alerts` taken under `cap`. One much smaller than
        the cap (the end of an item) says more about the cost of a transaction than of an
        alert and is not counted; one that filled a small cap is, or a cap below that size
        would never grow."""
        if alerts >= min(SMALL_TRANSACTION, cap) and seconds > 0:
            self.rate = 0.5 * self.rate + 0.5 * (alerts / seconds)


# Alerts below which a transaction that did not fill its cap is left out of the rate.
SMALL_TRANSACTION = 20
