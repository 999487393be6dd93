"""The demo as plain frozen data: what `service.py` writes, and what tests compare.

Staff are referred to by their catalogue key ("owner", "l1a" ...) and tickets by their
position in `DemoPlan.tickets`, so a plan needs no database ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PersonPlan:
    name: str
    email: str
    phone: str
    role: str
    is_primary: bool


@dataclass(frozen=True)
class EndpointPlan:
    hostname: str
    kind: str
    os: str
    last_seen_at: datetime


@dataclass(frozen=True)
class ClientPlan:
    name: str
    domain: str
    tier: str
    contacts: tuple[PersonPlan, ...]
    endpoints: tuple[EndpointPlan, ...]
    users: tuple[str, ...]  # the people who raise tickets, contacts included


@dataclass(frozen=True)
class ChangePlan:
    """One `change_ticket` call; None fields are left alone."""

    at: datetime
    actor: str | None
    status: str | None = None
    level: str | None = None
    assignee: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class WalkPlan:
    """A runbook run to record on the ticket, ending in `outcome` (resolve or escalate)."""

    started_at: datetime
    ends_at: datetime
    actor: str
    outcome: str
    level: str | None
    seed: int


@dataclass(frozen=True)
class TicketPlan:
    client: int
    title: str
    body: str
    category: str
    priority: str
    source: str
    external_id: str | None
    created_at: datetime
    changes: tuple[ChangePlan, ...]
    # The state after the changes that happened before `now`; open tickets have no resolution.
    status: str
    level: str
    assignee: str | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    host: str | None
    user: str
    facts: tuple[tuple[str, str], ...]  # slot values, also used to fill runbook inputs
    walk: WalkPlan | None = None


@dataclass(frozen=True)
class ContactPlan:
    occurred_at: datetime
    channel: str
    ticket: int | None
    staff: str
    reason: str
    emergency: bool
    minutes: int
    outcome: str
    after_hours: bool
    question: str
    answer: str | None
    in_drill: bool = False


@dataclass(frozen=True)
class ReviewPlan:
    contact: int
    disposition: str | None
    note: str | None
    disposed_at: datetime | None
    week_start: str | None = None


@dataclass(frozen=True)
class DrillPlan:
    starts_at: datetime
    ends_at: datetime
    ended_at: datetime
    criteria: str
    reviews: tuple[ReviewPlan, ...]


@dataclass(frozen=True)
class LessonPlan:
    ticket: int
    category: str
    text: str
    author: str
    state: str
    created_at: datetime
    applied_at: datetime | None


@dataclass(frozen=True)
class DemoPlan:
    seed: int
    now: datetime
    week_starts: tuple[datetime, ...]  # the complete weeks, oldest first
    clients: tuple[ClientPlan, ...]
    tickets: tuple[TicketPlan, ...]
    contacts: tuple[ContactPlan, ...]
    drill: DrillPlan
    weekly_reviews: tuple[ReviewPlan, ...]
    lessons: tuple[LessonPlan, ...]
