"""Owner waits read from ticket history in the database, against the KPI's definition."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from franchise.contacts.kpi import OwnerWait, owner_waits_from_events
from franchise.contacts.service import kpi_report, owner_waits
from franchise.tickets.models import Ticket, TicketEvent

NOW = datetime(2026, 3, 4, 12, tzinfo=UTC)  # Wednesday
SINCE = datetime(2026, 2, 2, tzinfo=UTC)  # the Monday the report's window opens


def ticket(session: Session) -> int:
    row = Ticket(title="Server down", created_at=SINCE - timedelta(days=30))
    session.add(row)
    session.flush()
    return row.id


def event(session: Session, ticket_id: int, at: datetime, field: str, value: str) -> None:
    session.add(
        TicketEvent(ticket_id=ticket_id, at=at, kind="changed", field=field, new_value=value)
    )


def test_waits_overlapping_the_window_are_kept_and_those_over_before_it_are_not(
    session: Session,
) -> None:
    before_to_inside, still_open, over_before = ticket(session), ticket(session), ticket(session)
    event(session, before_to_inside, SINCE - timedelta(days=3), "level", "owner")
    event(session, before_to_inside, SINCE + timedelta(hours=5), "status", "in_progress")
    event(session, still_open, SINCE - timedelta(days=10), "level", "owner")
    event(session, over_before, SINCE - timedelta(days=3), "level", "owner")
    event(session, over_before, SINCE - timedelta(days=2), "level", "L2")
    event(session, over_before, SINCE + timedelta(days=1), "status", "resolved")
    session.flush()

    assert owner_waits(session, since=SINCE, now=NOW) == [
        OwnerWait(before_to_inside, SINCE - timedelta(days=3), SINCE + timedelta(hours=5)),
        OwnerWait(still_open, SINCE - timedelta(days=10), None),
    ]


def test_a_wait_ending_exactly_when_the_window_opens_is_left_out(session: Session) -> None:
    t = ticket(session)
    event(session, t, SINCE - timedelta(hours=1), "level", "owner")
    event(session, t, SINCE, "status", "in_progress")
    session.flush()
    assert owner_waits(session, since=SINCE, now=NOW) == []


def test_history_after_now_is_not_seen(session: Session) -> None:
    ends_later, starts_later = ticket(session), ticket(session)
    event(session, ends_later, NOW - timedelta(hours=2), "level", "owner")
    event(session, ends_later, NOW + timedelta(hours=1), "status", "resolved")
    event(session, starts_later, NOW + timedelta(hours=1), "level", "owner")
    session.flush()
    assert owner_waits(session, since=SINCE, now=NOW) == [
        OwnerWait(ends_later, NOW - timedelta(hours=2), None)
    ]


def test_changes_at_the_escalation_instant_neither_end_it_nor_open_a_second_wait(
    session: Session,
) -> None:
    t = ticket(session)
    at = NOW - timedelta(days=1)
    event(session, t, at, "status", "escalated")
    event(session, t, at, "level", "owner")
    event(session, t, at, "level", "owner")
    event(session, t, at + timedelta(hours=3), "level", "owner")  # ends the wait, opens one
    event(session, t, at + timedelta(hours=4), "priority", "high")  # not level or status
    session.flush()
    assert owner_waits(session, since=SINCE, now=NOW) == [
        OwnerWait(t, at, at + timedelta(hours=3)),
        OwnerWait(t, at + timedelta(hours=3), None),
    ]


def test_the_database_agrees_with_the_kpi_definition_on_a_random_history(
    session: Session,
) -> None:
    rnd = random.Random(7)
    tickets = [ticket(session) for _ in range(40)]
    rows = []
    for t in tickets:
        at = SINCE - timedelta(days=20)
        for _ in range(rnd.randint(1, 8)):
            # Whole hours, often repeated, so changes at one instant are common.
            at += timedelta(hours=rnd.choice((0, 0, 5, 30, 200)))
            field = rnd.choice(("level", "level", "status", "priority"))
            value = rnd.choice(("owner", "L2")) if field == "level" else "in_progress"
            event(session, t, at, field, value)
            rows.append((t, at, field, value))
    session.flush()
    now = SINCE + timedelta(days=20)
    history = sorted(
        (r for r in rows if r[1] <= now and r[2] in ("level", "status")),
        key=lambda r: (r[0], r[1]),
    )
    expected = [w for w in owner_waits_from_events(history) if w.end is None or w.end > SINCE]
    assert len(expected) > 10
    assert owner_waits(session, since=SINCE, now=now) == expected


def test_the_report_counts_wait_hours_inside_the_shown_weeks(session: Session) -> None:
    t = ticket(session)
    # Escalated on Sunday 03-01 22:00 UTC, picked up Monday 03-02 04:00: 2 h + 4 h.
    event(session, t, datetime(2026, 3, 1, 22, tzinfo=UTC), "level", "owner")
    event(session, t, datetime(2026, 3, 2, 4, tzinfo=UTC), "status", "in_progress")
    session.flush()
    report = kpi_report(session, weeks=2, now=NOW)
    assert [(w["week_start"], w["owner_wait_hours"]) for w in report["weeks"]] == [
        ("2026-02-23", 2.0),
        ("2026-03-02", 4.0),
    ]
