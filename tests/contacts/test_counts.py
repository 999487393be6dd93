"""The KPI's counts from the database (counts.py) against the definition (kpi.tally_contacts)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.service import add_staff
from franchise.clients.service import add_client
from franchise.contacts.counts import tally_in_database
from franchise.contacts.hours import local_midnight, week_start
from franchise.contacts.kpi import ContactFact, tally_contacts
from franchise.contacts.models import CHANNELS, REASONS, OwnerContact
from franchise.orgsettings.service import set_setting
from franchise.tickets.models import Ticket

BERLIN = ZoneInfo("Europe/Berlin")
# A Wednesday three weeks after Berlin's clocks went back (25 October 2026): the report's
# weeks include the 169-hour one.
NOW = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)
OUTCOMES = ("interruption", "interruption", "interruption", "deflection", "refused")


def store_random_contacts(session: Session, seed: int) -> list[ContactFact]:
    """Contacts over ten weeks, the report's week starts and `now` included, with and without
    a technician, a ticket, a client and a category; returns what the KPI reads of each."""
    rng = random.Random(seed)
    staff = [
        add_staff(session, name=n, email=f"{n.lower()}@example.com", role="technician", level="L1")
        for n in ("Ana", "Ben", "Cy")
    ]
    clients = [add_client(session, name=f"Client {i}") for i in range(3)]
    tickets = []
    for i in range(12):
        client = rng.choice([*clients, None])
        category = rng.choice(["vpn", "backup", "mfa", None])
        row = Ticket(
            title=f"Ticket {i}",
            client_id=client.id if client else None,
            category=category,
            created_at=NOW - timedelta(days=90),
        )
        session.add(row)
        tickets.append((row, client, category))
    session.flush()
    this_week = week_start(NOW, BERLIN)
    edges = [local_midnight(this_week - timedelta(weeks=k), BERLIN) for k in range(10)]
    moments = [*edges, NOW, NOW + timedelta(seconds=1)]
    moments += [NOW - timedelta(minutes=rng.randint(0, 70 * 24 * 60)) for _ in range(250)]
    facts = []
    for at in moments:
        who = rng.choice([*staff, None])
        ticket = rng.choice([*tickets, None])
        contact = OwnerContact(
            occurred_at=at,
            channel=rng.choice(CHANNELS),
            reason=rng.choice(REASONS),
            outcome=rng.choice(OUTCOMES),
            minutes=rng.randint(0, 45),
            after_hours=rng.random() < 0.3,
            staff_id=who.id if who else None,
            ticket_id=ticket[0].id if ticket else None,
        )
        session.add(contact)
        if at <= NOW:  # what the report's query reads: nothing after now
            facts.append(
                ContactFact(
                    occurred_at=at,
                    channel=contact.channel,
                    reason=contact.reason,
                    outcome=contact.outcome,
                    minutes=contact.minutes,
                    after_hours=contact.after_hours,
                    technician=who.name if who else None,
                    ticket_id=contact.ticket_id,
                    client=ticket[1].name if ticket and ticket[1] else None,
                    category=ticket[2] if ticket else None,
                )
            )
    session.flush()
    return facts


@pytest.mark.parametrize("weeks", [1, 4, 8])
@pytest.mark.parametrize("seed", [1, 2])
def test_the_database_counts_what_the_definition_counts(
    session: Session, seed: int, weeks: int
) -> None:
    set_setting(session, "timezone", "Europe/Berlin")
    facts = store_random_contacts(session, seed)
    expected = tally_contacts(facts, tz=BERLIN, now=NOW, weeks=weeks)
    got = tally_in_database(session, tz=BERLIN, now=NOW, weeks=weeks)
    assert got.weekly == expected.weekly
    assert got.breakdowns == expected.breakdowns
    assert got.breakdown_minutes == expected.breakdown_minutes
    assert sum(c["interruptions"] for c in got.weekly.values()) > 50  # not a vacuous match


def test_a_contact_at_a_week_start_counts_in_that_week(session: Session) -> None:
    set_setting(session, "timezone", "Europe/Berlin")
    monday = local_midnight(week_start(NOW, BERLIN), BERLIN)
    for at in (monday - timedelta(microseconds=1), monday):
        session.add(
            OwnerContact(occurred_at=at, channel="call", reason="approval", outcome="interruption")
        )
    session.flush()
    weekly = tally_in_database(session, tz=BERLIN, now=NOW, weeks=2).weekly
    this_week = week_start(NOW, BERLIN)
    assert weekly[this_week]["interruptions"] == 1
    assert weekly[this_week - timedelta(weeks=1)]["interruptions"] == 1
    assert monday.astimezone(UTC).hour == 23  # Berlin's Monday midnight is Sunday in UTC
