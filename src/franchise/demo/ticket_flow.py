"""Eight weeks of demo tickets: when they arrive, who works them, how each one ends.

Every ticket gets its whole life planned (assign, work, wait, escalate, resolve, close);
only the part before `now` is kept, so recent tickets are naturally still open.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from franchise.demo import catalogue
from franchise.demo import ticket_text as tt
from franchise.demo.compose import Composed, compose
from franchise.demo.records import ChangePlan, ClientPlan, TicketPlan, WalkPlan
from franchise.demo.timeline import (
    WEEK,
    any_time,
    next_office_moment,
    office_day,
    office_time,
    share_of,
    some_minutes,
)
from franchise.runbooks.definition import CATEGORIES

# An MSP of 20 clients and 120 endpoints sees roughly 75-95 tickets a week.
WEEKLY_TICKETS = (74, 96)
# Relative share of the week's tickets per category.
CATEGORY_WEIGHTS = {
    "vpn": 6,
    "patching": 9,
    "backup": 8,
    "mfa": 13,
    "email-quarantine": 15,
    "account-lockout": 16,
    "endpoint-offline": 9,
    "disk-space": 8,
    "printer": 12,
    "onboarding": 4,
}
# How often a category's ticket comes from monitoring rather than from a person.
ALERT_SHARE = {
    "vpn": 0.1,
    "patching": 0.6,
    "backup": 0.75,
    "mfa": 0.05,
    "email-quarantine": 0.1,
    "account-lockout": 0.05,
    "endpoint-offline": 0.7,
    "disk-space": 0.8,
    "printer": 0.05,
    "onboarding": 0.0,
}
# Minutes of work from pick-up to resolution (low, high), before any waiting.
WORK_MINUTES = {
    "vpn": (30, 1440),
    "patching": (60, 4320),
    "backup": (90, 2880),
    "mfa": (20, 300),
    "email-quarantine": (10, 150),
    "account-lockout": (10, 90),
    "endpoint-offline": (30, 2880),
    "disk-space": (45, 1440),
    "printer": (30, 2880),
    "onboarding": (1440, 7200),
}
ESCALATE_SHARE = {"vpn": 0.3, "backup": 0.25, "patching": 0.2, "endpoint-offline": 0.15}
WAITING_SHARE = {"onboarding": 0.5, "printer": 0.3, "mfa": 0.25}
OWNER_NOTE = "Beyond the L2 boundary (cost or client-wide impact); needs the owner's decision."
# Server-side problems often go straight to L2.
SERVER_CATEGORIES = ("backup", "patching", "disk-space", "endpoint-offline")


@dataclass
class _Flow:
    changes: list[ChangePlan]
    worker: str
    started_at: datetime
    escalated_at: datetime | None = None
    escalated_to: str | None = None
    resolved_at: datetime | None = None


def build_tickets(
    rng: random.Random,
    clients: tuple[ClientPlan, ...],
    weeks: tuple[datetime, ...],
    now: datetime,
) -> tuple[TicketPlan, ...]:
    """Tickets for `weeks` (week starts, oldest first, the last may be the current week)."""
    weights = [len(c.endpoints) + 2 for c in clients]
    alert_number = rng.randint(204000, 236000)
    tickets = []
    for created, category, alert in _arrivals(rng, weeks, now):
        index = rng.choices(range(len(clients)), weights=weights)[0]
        text = compose(rng, clients[index], category, alert, created)
        source = "alert" if alert else rng.choices(("email", "web", "api"), (55, 35, 10))[0]
        external_id = None
        if alert:
            alert_number += rng.randint(1, 60)
            external_id = f"NINJA-{alert_number}"
        flow = _lifecycle(rng, category, source, text, created)
        week_index = int((created - weeks[0]) / WEEK)
        tickets.append(
            _settle(rng, index, category, source, external_id, created, text, flow, now, week_index)
        )
    return tuple(tickets)


def _arrivals(
    rng: random.Random, weeks: tuple[datetime, ...], now: datetime
) -> list[tuple[datetime, str, bool]]:
    arrivals = []
    for week in weeks:
        for _ in range(rng.randint(*WEEKLY_TICKETS)):
            category = rng.choices(CATEGORIES, weights=[CATEGORY_WEIGHTS[c] for c in CATEGORIES])[0]
            alert = rng.random() < ALERT_SHARE[category]
            created = (
                any_time(rng, week, WEEK) if alert else office_time(rng, office_day(rng, week))
            )
            # The current week is generated whole and cut at `now`, so it fills up pro rata.
            if created < now:
                arrivals.append((created, category, alert))
    arrivals.sort()
    return arrivals


def _lifecycle(
    rng: random.Random, category: str, source: str, text: Composed, created: datetime
) -> _Flow:
    responded = created + some_minutes(rng, 3, 120)
    if text.priority != "critical":
        responded = next_office_moment(rng, responded)
    to_l2 = category in SERVER_CATEGORIES and text.host is not None and "-SRV-" in text.host
    to_l2 = to_l2 and rng.random() < 0.5
    tech = rng.choice(catalogue.TECHNICIANS_L2 if to_l2 else catalogue.TECHNICIANS_L1)
    # The service manager dispatches the queue; web-form tickets are usually self-assigned.
    dispatcher = tech if source == "web" else "manager"
    started = responded + timedelta(minutes=rng.randint(1, 8))
    flow = _Flow(
        changes=[
            ChangePlan(responded, dispatcher, assignee=tech, level="L2" if to_l2 else None),
            ChangePlan(started, tech, status="in_progress"),
        ],
        worker=tech,
        started_at=started,
    )
    cursor = started
    low, high = WORK_MINUTES[category]
    work = some_minutes(rng, low, high)
    if rng.random() < WAITING_SHARE.get(category, 0.22):
        cursor = _wait(rng, flow, cursor + share_of(work, rng.uniform(0.2, 0.5)), text)
    if rng.random() < ESCALATE_SHARE.get(category, 0.05) * (0.15 if to_l2 else 1):
        cursor = _escalate(
            rng, flow, cursor + share_of(work, rng.uniform(0.3, 0.6)), category, text
        )
        work = some_minutes(rng, 120, 2880)
    resolved = cursor + work
    if text.priority != "critical":
        resolved = next_office_moment(rng, resolved)
    note = rng.choice(text.resolutions).format(**text.facts)
    flow.changes.append(ChangePlan(resolved, flow.worker, status="resolved", note=note))
    flow.changes.append(
        ChangePlan(resolved + timedelta(days=3), None, status="closed", note=tt.CLOSE_NOTE)
    )
    flow.resolved_at = resolved
    return flow


def _wait(rng: random.Random, flow: _Flow, at: datetime, text: Composed) -> datetime:
    note = rng.choice(tt.WAITING_NOTES).format(**text.facts)
    at = next_office_moment(rng, at)
    flow.changes.append(ChangePlan(at, flow.worker, status="waiting_on_client", note=note))
    # Clients answer when they get round to it: within the hour, or most of a week later.
    replied = next_office_moment(rng, at + some_minutes(rng, 30, 8640))
    flow.changes.append(ChangePlan(replied, None, status="in_progress", note="Client replied."))
    return replied


def _escalate(
    rng: random.Random, flow: _Flow, at: datetime, category: str, text: Composed
) -> datetime:
    already_l2 = flow.worker in catalogue.TECHNICIANS_L2
    if text.priority != "critical":
        at = next_office_moment(rng, at)
    # The owner is the last resort: a few per quarter, not per week.
    level = "owner" if already_l2 or rng.random() < 0.06 else "L2"
    escalations = tt.CATEGORY_TEXT[category].escalations
    note = OWNER_NOTE if level == "owner" else rng.choice(escalations).format(**text.facts)
    flow.changes.append(ChangePlan(at, flow.worker, status="escalated", level=level, note=note))
    flow.escalated_at, flow.escalated_to = at, level
    # It stays escalated until the next level has looked at it, which can take a while.
    resumed = next_office_moment(rng, at + some_minutes(rng, 20, 1800))
    if already_l2:
        note = "Owner decided; carrying on."
        flow.changes.append(ChangePlan(resumed, flow.worker, status="in_progress", note=note))
        return resumed
    flow.worker = rng.choice(catalogue.TECHNICIANS_L2)
    assigned = min(next_office_moment(rng, at + timedelta(minutes=rng.randint(5, 60))), resumed)
    flow.changes.append(ChangePlan(assigned, "manager", assignee=flow.worker))
    flow.changes.append(ChangePlan(resumed, flow.worker, status="in_progress"))
    return resumed


def _settle(
    rng: random.Random,
    client: int,
    category: str,
    source: str,
    external_id: str | None,
    created: datetime,
    text: Composed,
    flow: _Flow,
    now: datetime,
    week_index: int,
) -> TicketPlan:
    """Keep the part of the ticket's life before `now` and derive its state from it."""
    applied = tuple(c for c in flow.changes if c.at < now)
    status, level, assignee = "new", "L1", None
    resolved_at = closed_at = None
    for change in applied:
        status = change.status or status
        level = change.level or level
        assignee = change.assignee or assignee
        if change.status == "resolved":
            resolved_at = change.at
        if change.status == "closed":
            closed_at = change.at
    return TicketPlan(
        client=client,
        title=text.title,
        body=text.body,
        category=category,
        priority=text.priority,
        source=source,
        external_id=external_id,
        created_at=created,
        changes=applied,
        status=status,
        level=level,
        assignee=assignee,
        first_response_at=applied[0].at if applied else None,
        resolved_at=resolved_at,
        closed_at=closed_at,
        host=text.host,
        user=text.user,
        facts=tuple(sorted(text.facts.items())),
        walk=_walk(rng, flow, now, week_index),
    )


def _walk(rng: random.Random, flow: _Flow, now: datetime, week_index: int) -> WalkPlan | None:
    """Record a runbook run on some finished tickets; more in later weeks as runbooks land."""
    seed = rng.randrange(2**31)
    if rng.random() >= 0.02 + 0.01 * week_index:
        return None
    start = flow.started_at + timedelta(minutes=rng.randint(1, 5))
    if flow.escalated_at is not None:
        end, outcome, level = flow.escalated_at, "escalate", flow.escalated_to
        actor = next(c.assignee for c in flow.changes if c.assignee)
    else:
        assert flow.resolved_at is not None
        end, outcome, level, actor = flow.resolved_at, "resolve", None, flow.worker
    if end >= now or end <= start:
        return None
    assert actor is not None
    return WalkPlan(start, end, actor, outcome, level, seed)
