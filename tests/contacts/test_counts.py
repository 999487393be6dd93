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
from franchise.contacts.service import kpi_report
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


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# The hand-worked local-week cases of test_kpi.py, plus contacts exactly at a week's start
# (and a microsecond before), run through the path production uses: the GROUP BY queries
# of counts.py behind kpi_report. (time zone, contacts in UTC, now, interruptions by week)
DST_CASES = [
    pytest.param(
        "Pacific/Auckland",  # UTC+13 (NZDT) in February
        [
            utc(2026, 2, 8, 11, 10),  # Mon 02-09 00:10 local (UTC: Sun 02-08) -> 02-09
            utc(2026, 2, 15, 10, 30),  # Sun 02-15 23:30 local -> 02-09
            utc(2026, 2, 15, 10, 59, 59, 999999),  # Sun 02-15 23:59:59.999999 -> 02-09
            utc(2026, 2, 15, 11, 0),  # Mon 02-16 00:00 local exactly -> 02-16
            utc(2026, 2, 15, 11, 10),  # Mon 02-16 00:10 local -> 02-16
        ],
        utc(2026, 2, 17, 23, 0),  # Wed 02-18 12:00 NZDT
        {"2026-02-02": 0, "2026-02-09": 3, "2026-02-16": 2},
        id="auckland",
    ),
    pytest.param(
        "America/Los_Angeles",  # UTC-8 (PST) in February
        [
            utc(2026, 2, 9, 6, 0),  # Sun 02-08 22:00 local (UTC: Mon 02-09) -> 02-02
            utc(2026, 2, 16, 7, 30),  # Sun 02-15 23:30 local (UTC: Mon 02-16) -> 02-09
            utc(2026, 2, 16, 8, 0),  # Mon 02-16 00:00 local exactly -> 02-16
            utc(2026, 2, 16, 8, 10),  # Mon 02-16 00:10 local -> 02-16
        ],
        utc(2026, 2, 18, 20, 0),  # Wed 02-18 12:00 PST
        {"2026-02-02": 1, "2026-02-09": 1, "2026-02-16": 2},
        id="los-angeles",
    ),
    pytest.param(
        "Europe/Berlin",  # spring: week 03-23 runs 03-22T23:00Z to 03-29T22:00Z, 167 hours
        [
            utc(2026, 3, 22, 22, 59),  # Sun 03-22 23:59 CET -> 03-16
            utc(2026, 3, 22, 23, 0),  # Mon 03-23 00:00 CET exactly -> 03-23
            utc(2026, 3, 29, 0, 59),  # Sun 03-29 01:59 CET, just before the switch -> 03-23
            utc(2026, 3, 29, 1, 0),  # Sun 03-29 03:00 CEST, just after -> 03-23
            utc(2026, 3, 29, 21, 59),  # Sun 03-29 23:59 CEST -> 03-23
            utc(2026, 3, 29, 22, 0),  # Mon 03-30 00:00 CEST exactly -> 03-30
        ],
        utc(2026, 4, 1, 10, 0),  # Wed 04-01 12:00 CEST
        {"2026-03-16": 1, "2026-03-23": 4, "2026-03-30": 1},
        id="berlin-spring",
    ),
    pytest.param(
        "Europe/Berlin",  # autumn: week 10-19 runs 10-18T22:00Z to 10-25T23:00Z, 169 hours
        [
            utc(2026, 10, 18, 21, 59, 59),  # Sun 10-18 23:59:59 CEST -> 10-12
            utc(2026, 10, 18, 22, 0),  # Mon 10-19 00:00 CEST exactly -> 10-19
            utc(2026, 10, 25, 22, 30),  # Sun 10-25 23:30 CET (a 168-hour week ends) -> 10-19
            utc(2026, 10, 25, 23, 0),  # Mon 10-26 00:00 CET exactly -> 10-26
        ],
        utc(2026, 10, 28, 11, 0),  # Wed 10-28 12:00 CET
        {"2026-10-12": 1, "2026-10-19": 2, "2026-10-26": 1},
        id="berlin-autumn",
    ),
]


@pytest.mark.parametrize(("zone", "moments", "now", "expected"), DST_CASES)
def test_the_report_puts_contacts_in_local_weeks_across_dst(
    session: Session, zone: str, moments: list[datetime], now: datetime, expected: dict[str, int]
) -> None:
    set_setting(session, "timezone", zone)
    for at in moments:
        session.add(
            OwnerContact(occurred_at=at, channel="call", reason="approval", outcome="interruption")
        )
    session.flush()
    report = kpi_report(session, weeks=3, now=now)
    assert report["timezone"] == zone
    assert {w["week_start"]: w["interruptions"] for w in report["weeks"]} == expected
    assert [w["complete"] for w in report["weeks"]] == [True, True, False]
