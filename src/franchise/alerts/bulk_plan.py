"""What the bulk path plans in memory before it writes: the items' parts, the groups and
tickets as the run leaves them (read once, or opened by the plan), and what outage
correlation has read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from franchise.alerts import transitions
from franchise.alerts.models import AlertGroup, AlertOutage, InboxItem, Integration
from franchise.alerts.processing import Batch, mirrored_fields
from franchise.alerts.routing import Route, mappings_for, route_alert
from franchise.integrations.normalized import NormalizedAlert
from franchise.psa.models import WebhookEvent
from franchise.tickets.models import Ticket, TicketEvent

GROUPS = cast(Table, AlertGroup.__table__)
TICKETS = cast(Table, Ticket.__table__)
EVENTS = cast(Table, TicketEvent.__table__)
ITEMS = cast(Table, InboxItem.__table__)
WEBHOOKS = cast(Table, WebhookEvent.__table__)
OUTAGES = cast(Table, AlertOutage.__table__)

# Keys per IN list: well under every database's limit on bound parameters.
CHUNK = 500


class NotBulk(Exception):
    """An alert needs the one-by-one path (it opens or joins an outage, ...)."""


@dataclass
class Part:
    """An item's alerts to apply in this transaction: `alerts[start:end]`."""

    id: int
    integration: Integration
    received_at: datetime
    alerts: list[tuple[int, NormalizedAlert]]
    start: int
    end: int
    alert_errors: list[dict[str, Any]] | None
    outcomes: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.end >= len(self.alerts)


@dataclass(eq=False)
class PlannedTicket:
    """A group's ticket as the plan leaves it: one read from the database (`id` set), or
    one the plan opens (`row` holds its columns until it is inserted)."""

    id: int | None
    status: str
    custom_fields: dict[str, Any]
    row: dict[str, Any] | None = None
    group: PlannedGroup | None = None  # the group whose count the custom fields mirror
    fields_changed: bool = False
    touched: bool = False  # a note was added: updated_at moves
    # A mirror of its group is due (`settle`): the group's count and last-seen time when it
    # was due; its members are read when it is worked out, once, not after every alert (a
    # notification group of thousands would be sorted thousands of times).
    mirror: tuple[int, datetime] | None = None

    def settle(self) -> None:
        """Work out the due mirror. The group's members must be as they were when it fell
        due: bulk._apply_member settles a ticket the group may leave before changing them."""
        group = self.group
        if self.mirror is not None and group is not None:
            count, last_seen = self.mirror
            self.custom_fields = mirrored_fields(
                self.custom_fields, None, count, last_seen, group.members
            )
            self.mirror = None


@dataclass(eq=False)
class PlannedGroup:
    id: int | None
    integration_id: int
    dedup_key: str
    ticket_id: int | None
    status: str
    title: str
    severity: str
    host: str | None
    count: int
    first_seen: datetime
    last_seen: datetime
    status_at: datetime
    resolved_at: datetime | None
    client_id: int | None
    site: str | None
    outage_id: int | None
    # A notification group's alerts by fingerprint (transitions.record_member); None for a
    # group of one alert.
    members: dict[str, Any] | None = None
    opened: PlannedTicket | None = None  # a ticket the plan opens for it
    changed: bool = False
    firing: int | None = None  # how many members fire, once counted (record_member)

    def values(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "count": self.count,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "status_at": self.status_at,
            "resolved_at": self.resolved_at,
            "client_id": self.client_id,
            "site": self.site,
            "outage_id": self.outage_id,
            "members": self.members,
        }


@dataclass(eq=False)
class Plan:
    """The state the alerts of the run leave, built in memory from what was read."""

    session: Session
    batch: Batch
    rows: dict[tuple[int, str], Any]  # (integration id, dedup key) -> group row read
    tickets: dict[int, Any]  # ticket id -> (id, status, custom_fields) read
    owners: dict[str, set[int]]
    now: datetime
    groups: dict[tuple[int, str], PlannedGroup | None] = field(default_factory=dict)
    existing: dict[int, PlannedTicket] = field(default_factory=dict)
    opened: list[PlannedTicket] = field(default_factory=list)
    # (ticket, kind, note) in the order the one-by-one path adds them.
    notes: list[tuple[PlannedTicket, str, str]] = field(default_factory=list)
    routes: dict[int, Route] = field(default_factory=dict)  # by id() of the alert
    recent: Recent | None = None
    # Groups given a ticket of their own by the plan, by scope (outage correlation).
    ticketed: dict[str, list[PlannedGroup]] = field(default_factory=dict)
    # The outages of the groups read: id -> (id, ticket_id, resolved_at).
    outages: dict[int, Any] = field(default_factory=dict)
    # Outages a child of which changed: their summaries are rewritten (Batch.finish).
    outages_changed: set[int] = field(default_factory=set)

    def group(self, integration: Integration, key: str) -> PlannedGroup | None:
        index = (integration.id, key)
        if index not in self.groups:
            row = self.rows.get(index)
            group = None if row is None else PlannedGroup(**row._asdict())
            if group is not None and group.members is not None:
                # The plan's own copy, changed in place alert after alert; the row's stays
                # as read, for a plan made again without an item (bulk.apply_parts).
                group.members = dict(group.members)
            self.groups[index] = group
        return self.groups[index]

    def open_outage(self, group: PlannedGroup) -> bool:
        """Whether the group is a child of an outage that has not resolved."""
        if group.outage_id is None:
            return False
        row = self.outages.get(group.outage_id)
        return row is not None and row.resolved_at is None

    def ticket_of(self, group: PlannedGroup) -> PlannedTicket | None:
        if group.opened is not None:
            return group.opened
        if group.ticket_id is None:
            return None
        found = self.existing.get(group.ticket_id)
        if found is None:
            row = self.tickets.get(group.ticket_id)
            if row is None:
                return None
            found = self.existing[group.ticket_id] = PlannedTicket(
                row.id, row.status, dict(row.custom_fields or {})
            )
        return found

    def route(self, integration: Integration, alert: NormalizedAlert) -> Route:
        known = self.routes.get(id(alert))
        if known is None:
            mappings = self.batch.lookups.mappings.get(integration.id)
            if mappings is None:
                mappings = self.batch.lookups.mappings[integration.id] = mappings_for(
                    self.session, integration.id
                )
            known = self.routes[id(alert)] = route_alert(
                self.session, integration, alert, mappings=mappings, owners=self.owners
            )
        return known

    def new_group(
        self, integration: Integration, alert: NormalizedAlert, status: str, at: datetime
    ) -> PlannedGroup:
        group = PlannedGroup(
            id=None,
            integration_id=integration.id,
            dedup_key=alert.dedup_key,
            ticket_id=None,
            title=alert.title,
            severity=alert.severity,
            host=alert.host,
            client_id=None,
            site=None,
            outage_id=None,
            changed=True,
            **transitions.first_seen(status, at),
        )
        self.groups[(integration.id, alert.dedup_key)] = group
        return group

    def note(self, ticket: PlannedTicket, kind: str, note: str) -> None:
        self.notes.append((ticket, kind, note))
        ticket.touched = True


@dataclass(eq=False)
class Recent:
    """For outage correlation (outages.correlate): per scope, the newest receipt-window
    start of its open outages, and its recent firing groups with a ticket of their own."""

    read: set[str] = field(default_factory=set)
    outages: dict[str, datetime] = field(default_factory=dict)  # scope -> latest last_at
    groups: dict[str, list[Any]] = field(default_factory=dict)
