"""Build the whole demo as plain data from a seed and a moment; no database, no clock.

Each part draws from its own generator derived from the seed, so changing how one part
is generated leaves the others as they were.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from franchise.demo.companies import build_clients
from franchise.demo.learning import build_lessons
from franchise.demo.owner_story import build_contacts, build_reviews
from franchise.demo.records import ClientPlan, DemoPlan, TicketPlan
from franchise.demo.ticket_flow import build_tickets
from franchise.demo.timeline import complete_weeks, week_start
from franchise.errors import InvalidInput

WEEKS = 8
OPEN = (
    "new",
    "in_progress",
    "waiting_on_client",
    "waiting_on_approval",
    "escalated",
    "ready_to_resolve",
)


def build_plan(*, seed: int, now: datetime) -> DemoPlan:
    if now.tzinfo is None:
        raise InvalidInput("the demo needs an aware UTC datetime for 'now'")
    now = now.astimezone(UTC)
    weeks = complete_weeks(now, WEEKS)
    clients = build_clients(_rng(seed, "clients"), now)
    # The current, partial week runs up to `now`, so the queue has work in progress.
    tickets = build_tickets(_rng(seed, "tickets"), clients, (*weeks, week_start(now)), now)
    clients = _offline_devices(clients, tickets)
    contacts = build_contacts(_rng(seed, "contacts"), clients, tickets, weeks, now)
    drill, weekly = build_reviews(_rng(seed, "reviews"), contacts, weeks)
    return DemoPlan(
        seed=seed,
        now=now,
        week_starts=weeks,
        clients=clients,
        tickets=tickets,
        contacts=contacts,
        drill=drill,
        weekly_reviews=weekly,
        lessons=build_lessons(_rng(seed, "lessons"), tickets, weeks, now),
    )


def _rng(seed: int, part: str) -> random.Random:
    # String seeds are hashed with SHA-512, not hash(): stable across processes.
    return random.Random(f"{seed}:{part}")


def _offline_devices(
    clients: tuple[ClientPlan, ...], tickets: tuple[TicketPlan, ...]
) -> tuple[ClientPlan, ...]:
    """Devices with an open 'offline' ticket stopped checking in before it was raised."""
    last_seen: dict[tuple[int, str], datetime] = {}
    for ticket in tickets:
        if ticket.category == "endpoint-offline" and ticket.status in OPEN and ticket.host:
            last_seen[(ticket.client, ticket.host)] = ticket.created_at - timedelta(minutes=20)
    return tuple(
        replace(
            client,
            endpoints=tuple(
                replace(e, last_seen_at=last_seen.get((i, e.hostname), e.last_seen_at))
                for e in client.endpoints
            ),
        )
        for i, client in enumerate(clients)
    )
