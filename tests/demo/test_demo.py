"""The demo MSP: the pure plan (shape, story, determinism) and loading it into the database."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.passwords import verify_password
from franchise.ask.models import AskReply
from franchise.ask.reply import open_asks
from franchise.bootstrap import initialise
from franchise.clients.models import TIERS, Client, ClientContact, Endpoint
from franchise.contacts.models import OwnerContact
from franchise.db import Database
from franchise.demo.plan import build_plan
from franchise.demo.records import DemoPlan
from franchise.demo.service import OPEN_ASKS, load_demo
from franchise.drills.models import Drill, ReviewItem
from franchise.errors import InvalidInput
from franchise.lessons.models import Lesson
from franchise.people import feed
from franchise.people.models import StaffNotice
from franchise.runbooks.definition import CATEGORIES
from franchise.runbooks.models import Runbook, RunbookRun, RunStep
from franchise.tickets.models import Ticket, TicketEvent

# A Thursday afternoon, so the current week is part-way through.
NOW = datetime(2026, 3, 12, 14, 30, tzinfo=UTC)
WEEK = timedelta(days=7)
OPEN = {"new", "in_progress", "waiting_on_client", "escalated"}


@pytest.fixture(scope="module")
def plan() -> DemoPlan:
    return build_plan(seed=7, now=NOW)


@pytest.fixture(scope="module")
def loaded(engine: Engine) -> Iterator[tuple[Session, dict[str, Any]]]:
    """The demo loaded once per database, with the report `load_demo` gave, for the tests
    that read what it wrote (loading it takes seconds): one transaction for the module,
    rolled back at the end. `franchise demo` on an empty database has its own module, so
    no test here waits on this transaction's write lock."""
    connection = engine.connect()
    transaction = connection.begin()
    try:
        with Database(connection).unit_of_work() as session:
            initialise(session)
            yield session, load_demo(session, seed=7, now=NOW)
    finally:
        transaction.rollback()
        connection.close()


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def in_week(moment: datetime, start: datetime) -> bool:
    return start <= moment < start + WEEK


# --- the plan ---------------------------------------------------------------------------


def test_same_seed_and_moment_give_the_same_demo(plan: DemoPlan) -> None:
    assert build_plan(seed=7, now=NOW) == plan


def test_another_seed_gives_another_demo(plan: DemoPlan) -> None:
    other = build_plan(seed=8, now=NOW)
    assert other != plan
    assert [t.title for t in other.tickets[:20]] != [t.title for t in plan.tickets[:20]]


def test_plan_refuses_a_naive_now() -> None:
    with pytest.raises(InvalidInput):
        build_plan(seed=7, now=datetime(2026, 3, 12, 14, 30))


def test_twenty_clients_with_contacts_and_120_endpoints(plan: DemoPlan) -> None:
    assert len(plan.clients) == 20
    assert len({c.name for c in plan.clients}) == 20
    assert sum(len(c.endpoints) for c in plan.clients) == 120
    assert {c.tier for c in plan.clients} == set(TIERS)
    for client in plan.clients:
        assert 1 <= len(client.contacts) <= 3
        assert sum(c.is_primary for c in client.contacts) == 1
        assert all(c.email.endswith(".example") for c in client.contacts)
        assert any(e.kind == "server" for e in client.endpoints)
    hostnames = [e.hostname for c in plan.clients for e in c.endpoints]
    assert len(set(hostnames)) == 120
    assert {e.kind for c in plan.clients for e in c.endpoints} == {
        "server",
        "workstation",
        "laptop",
    }


def test_eight_complete_weeks_of_tickets_at_a_realistic_volume(plan: DemoPlan) -> None:
    assert len(plan.week_starts) == 8
    assert plan.week_starts[-1] + WEEK <= NOW < plan.week_starts[-1] + 2 * WEEK
    for start in plan.week_starts:
        weekly = [t for t in plan.tickets if in_week(t.created_at, start)]
        assert 60 <= len(weekly) <= 110, start
    assert all(t.created_at < NOW for t in plan.tickets)
    assert [t.created_at for t in plan.tickets] == sorted(t.created_at for t in plan.tickets)


def test_every_category_is_present_and_the_everyday_ones_lead(plan: DemoPlan) -> None:
    by_category = Counter(t.category for t in plan.tickets)
    assert set(by_category) == set(CATEGORIES)
    everyday = {"account-lockout", "email-quarantine", "mfa", "printer"}
    assert {c for c, _ in by_category.most_common(4)} == everyday
    # Onboarding is a few a week, not dozens.
    assert by_category["onboarding"] <= 6 * 9


def test_alert_categories_mostly_come_from_monitoring(plan: DemoPlan) -> None:
    for category in ("backup", "disk-space", "endpoint-offline"):
        tickets = [t for t in plan.tickets if t.category == category]
        alerts = [t for t in tickets if t.source == "alert"]
        assert len(alerts) > len(tickets) / 2, category
        assert all(t.external_id for t in alerts)
    assert {t.source for t in plan.tickets} == {"email", "web", "alert", "api"}


def test_old_tickets_are_finished_and_recent_ones_are_in_flight(plan: DemoPlan) -> None:
    old = [t for t in plan.tickets if t.created_at < NOW - 2 * WEEK]
    assert all(t.status in ("resolved", "closed") and t.resolved_at for t in old)
    assert all(t.assignee for t in old)
    recent = [t for t in plan.tickets if t.status in OPEN]
    assert len(recent) >= 5
    assert len({t.status for t in recent}) >= 2
    assert all(t.resolved_at is None for t in recent)
    levels = Counter(t.level for t in plan.tickets)
    assert levels["L1"] > levels["L2"] > levels["owner"]


def test_ticket_history_happens_in_order_and_before_now(plan: DemoPlan) -> None:
    for ticket in plan.tickets:
        times = [c.at for c in ticket.changes]
        assert times == sorted(times)
        assert all(ticket.created_at <= at < NOW for at in times)


def test_owner_interruptions_fall_from_about_twelve_to_about_two(plan: DemoPlan) -> None:
    def weekly(outcome: str, start: datetime) -> int:
        return sum(
            1 for c in plan.contacts if c.outcome == outcome and in_week(c.occurred_at, start)
        )

    interruptions = [weekly("interruption", s) for s in plan.week_starts]
    deflections = [weekly("deflection", s) for s in plan.week_starts]
    assert interruptions[0] >= 10
    assert interruptions[-1] <= 3
    assert sum(interruptions[:4]) > 2 * sum(interruptions[4:])
    assert sum(deflections[4:]) > sum(deflections[:4])
    reached = [c for c in plan.contacts if c.outcome == "interruption"]
    assert all(3 <= c.minutes <= 25 for c in reached)
    assert any(c.after_hours for c in reached)
    early = Counter(c.reason for c in reached if c.occurred_at < plan.week_starts[2])
    assert {r for r, _ in early.most_common(2)} == {"approval", "technical_decision"}
    assert all(c.staff != "owner" for c in plan.contacts)
    assert sum(c.ticket is not None for c in plan.contacts) > len(plan.contacts) * 0.8


def test_the_drill_was_two_to_three_weeks_ago_and_fully_reviewed(plan: DemoPlan) -> None:
    drill = plan.drill
    assert drill.ends_at - drill.starts_at == timedelta(days=3)
    assert timedelta(days=10) <= NOW - drill.ended_at <= timedelta(days=24)
    during = [c for c in plan.contacts if c.in_drill]
    assert all(drill.starts_at <= c.occurred_at < drill.ends_at for c in during)
    assert sum(c.outcome == "refused" for c in during) >= 3
    emergencies = [c for c in during if c.emergency]
    assert len(emergencies) == 1
    assert emergencies[0].outcome == "interruption"
    # Outside emergencies, nobody reached the owner while the drill ran.
    others = [c for c in plan.contacts if drill.starts_at <= c.occurred_at < drill.ends_at]
    assert all(c.in_drill for c in others)
    assert {r.contact for r in drill.reviews} == {plan.contacts.index(c) for c in during}
    assert all(r.disposition in ("improve_runbook", "tighten_rule") for r in drill.reviews)
    assert all(r.note and r.disposed_at and r.disposed_at < NOW for r in drill.reviews)


def test_lessons_applied_in_the_past_and_pending_from_last_week(plan: DemoPlan) -> None:
    states = Counter(lesson.state for lesson in plan.lessons)
    assert states["applied"] >= 3
    assert 2 <= states["pending"] <= 3
    for lesson in plan.lessons:
        ticket = plan.tickets[lesson.ticket]
        assert ticket.category == lesson.category
        assert ticket.resolved_at is not None
        assert ticket.resolved_at < lesson.created_at < NOW
        if lesson.state == "pending":
            assert lesson.created_at >= NOW - WEEK
            assert lesson.applied_at is None
        else:
            assert lesson.applied_at is not None
            assert lesson.created_at < lesson.applied_at


# --- loading into the database ----------------------------------------------------------


def test_load_demo_writes_the_msp(loaded: tuple[Session, dict[str, Any]], plan: DemoPlan) -> None:
    session, report = loaded

    assert report["clients"] == count(session, Client) == 20
    assert report["endpoints"] == count(session, Endpoint) == 120
    assert session.scalar(select(func.sum(Client.endpoint_count))) == 120
    # The named contacts and every other person who raises tickets, each once.
    assert count(session, ClientContact) == sum(
        len({*(p.name for p in c.contacts), *c.users}) for c in plan.clients
    )
    primary = session.scalars(select(ClientContact).where(ClientContact.is_primary)).all()
    assert len(primary) == 20 and all(c.phone for c in primary)
    # Tickets from people name their requester; monitoring alerts have none.
    tickets = list(session.scalars(select(Ticket)))
    by_person = [t for t in tickets if t.source != "alert"]
    assert by_person and all(t.requester_id for t in by_person)
    assert all(t.requester_id is None for t in tickets if t.source == "alert")
    staff = list(session.scalars(select(Staff)))
    assert report["staff"] == len(staff) == 5
    assert Counter(s.level for s in staff) == {"owner": 1, "L1": 2, "L2": 2}
    assert Counter(s.role for s in staff)["owner"] == 1
    # The printed demo logins really sign in.
    assert {login["email"] for login in report["logins"]} == {s.email for s in staff}
    for login in report["logins"]:
        member = next(s for s in staff if s.email == login["email"])
        assert verify_password(member.password_hash, login["password"])
    assert report["tickets"] == count(session, Ticket) == len(plan.tickets)

    runbook_of = {r.category: r.key for r in session.scalars(select(Runbook))}
    for ticket in session.scalars(select(Ticket)):
        assert ticket.runbook_key == runbook_of.get(ticket.category or "")
        assert ticket.created_at.tzinfo is not None
    # Approval requests made by runbook action steps add notes of their own; count field changes.
    events = session.scalar(
        select(func.count())
        .select_from(TicketEvent)
        .where(TicketEvent.kind.in_(("created", "changed")))
    )
    assert events == len(plan.tickets) + sum(
        bool(c.status) + bool(c.level) + bool(c.assignee) for t in plan.tickets for c in t.changes
    )


def test_load_demo_records_runbook_runs_that_end_like_their_tickets(
    loaded: tuple[Session, dict[str, Any]],
) -> None:
    session, report = loaded
    runs = list(session.scalars(select(RunbookRun)))
    assert report["runbook_runs"] == len(runs)
    assert count(session, Runbook) == len(CATEGORIES)
    assert 25 <= len(runs) <= 60
    for run in runs:
        ticket = session.get(Ticket, run.ticket_id)
        assert ticket is not None
        assert run.outcome in ("resolved", "escalate")
        assert run.started_at < (run.finished_at or NOW) <= NOW
        if run.outcome == "escalate":
            assert ticket.level != "L1"
        steps = session.scalars(select(RunStep).where(RunStep.run_id == run.id)).all()
        assert steps
        assert all(run.started_at < s.at <= NOW for s in steps)


def test_load_demo_writes_the_owner_story(
    loaded: tuple[Session, dict[str, Any]], plan: DemoPlan
) -> None:
    session, _report = loaded
    assert count(session, OwnerContact) == len(plan.contacts)
    drill = session.scalars(select(Drill)).one()
    assert drill.ended_at is not None
    reviews = list(session.scalars(select(ReviewItem).where(ReviewItem.drill_id == drill.id)))
    assert len(reviews) == len(plan.drill.reviews) >= 4
    assert all(r.disposition and r.disposed_at and r.disposed_by_id for r in reviews)
    lessons = list(session.scalars(select(Lesson)))
    assert Counter(lesson.state for lesson in lessons) == Counter(
        lesson.state for lesson in plan.lessons
    )
    assert all(lesson.runbook_id for lesson in lessons) or count(session, Runbook) < len(CATEGORIES)


def test_past_asks_are_answered_and_only_the_newest_wait(
    loaded: tuple[Session, dict[str, Any]], plan: DemoPlan
) -> None:
    session, _report = loaded
    asked = sorted(
        (c for c in plan.contacts if c.outcome == "interruption" and c.question and c.answer),
        key=lambda c: c.occurred_at,
    )
    waiting = open_asks(session)
    assert len(asked) > OPEN_ASKS
    assert [a.question for a in waiting] == [c.question for c in asked[-OPEN_ASKS:]]
    replies = list(session.scalars(select(AskReply)))
    assert len(replies) == len(asked) - OPEN_ASKS
    owner = session.scalars(select(Staff).where(Staff.role == "owner")).one()
    assert {r.replied_by_id for r in replies} == {owner.id}
    # The owner's notifications hold the asks that wait, unread; the askers heard of the
    # answers, and have read them.
    unread = feed.latest(session, owner.id, unread_only=True)
    assert [n.link for n in unread] == [f"/dashboard#ask-{a.id}" for a in reversed(waiting)]
    assert [n.text for n in unread] == [a.question for a in reversed(waiting)]
    answered = session.scalars(
        select(StaffNotice).where(StaffNotice.title.startswith("The owner answered"))
    ).all()
    assert answered and all(n.read_at is not None for n in answered)
    assert len(answered) <= len(replies)


def test_load_demo_twice_adds_nothing(loaded: tuple[Session, dict[str, Any]]) -> None:
    session, first = loaded
    tables = (Client, Endpoint, Staff, Ticket, TicketEvent, OwnerContact, Lesson, RunbookRun)
    before = {model.__name__: count(session, model) for model in tables}

    again = load_demo(session, seed=7, now=NOW)

    assert again["already_loaded"] is True
    assert {model.__name__: count(session, model) for model in tables} == before
    assert again["tickets"] == first["tickets"]
    assert again["logins"] == first["logins"]
