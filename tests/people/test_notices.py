"""Hand-offs reach people: deciders, requesters, the holder of an escalation, the owner, and
the technician the owner answered. Posted through the outbox to loopback webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.approvals.service import list_requests
from franchise.ask.reply import reply_to_ask
from franchise.ask.service import ask_owner
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.duty.service import set_shift
from franchise.flows.action_links import apply_link
from franchise.flows.approvals import decide_request
from franchise.flows.escalations import escalate
from franchise.flows.runs import begin_run
from franchise.outbox.models import OutboxItem
from franchise.people.service import check_link, set_channel
from franchise.runbooks import service as runbooks
from franchise.settings import Settings
from franchise.tickets.models import Ticket, TicketEvent
from franchise.tickets.service import create_ticket
from tests.notify.receiver import Receiver, receiver
from tests.support import deliver_outbox

SOURCE = """\
format: 2
key: seat-top-up
title: Seat top-up
category: onboarding
status: validated
fallback: {to: L2, text: Attach the licence report.}
start: buy
steps:
  buy:
    kind: action
    text: Buy two extra seats.
    estimate: {minutes: 10, cost: 300, impact: none, kind: licence-purchase}
    options: {"Bought": done}
  done: {kind: resolve, text: Seats assigned., done_when: [Seats assigned]}
"""


@dataclass
class Crew:
    lia: Staff  # L1, asks
    max: Staff  # L2 on duty
    kim: Staff  # L2 off duty
    olu: Staff  # owner
    lia_slack: Receiver
    max_teams: Receiver
    kim_teams: Receiver
    olu_teams: Receiver


@pytest.fixture
def crew(people_session: Session, settings: Settings) -> Iterator[Crew]:
    session = people_session
    initialise(session)
    runbooks.save_runbook(session, SOURCE, file="seats.yaml")
    lia = add_staff(session, name="Lia", email="lia@example.com", role="technician", level="L1")
    max_ = add_staff(session, name="Max", email="max@example.com", role="technician", level="L2")
    kim = add_staff(session, name="Kim", email="kim@example.com", role="technician", level="L2")
    olu = add_staff(session, name="Olu", email="olu@example.com", role="owner", level="owner")
    set_shift(session, level="L2", staff=max_, days="daily", hours="00:00-00:00")
    with receiver() as a, receiver() as b, receiver() as c, receiver() as d:
        set_channel(session, lia, kind="slack", url=a.http_url("/lia"), by=lia, settings=settings)
        set_channel(session, max_, kind="teams", url=b.http_url("/max"), by=max_, settings=settings)
        set_channel(session, kim, kind="teams", url=c.http_url("/kim"), by=kim, settings=settings)
        set_channel(session, olu, kind="teams", url=d.http_url("/olu"), by=olu, settings=settings)
        yield Crew(lia, max_, kim, olu, a, b, c, d)


def start(session: Session, crew: Crew) -> Ticket:
    ticket = create_ticket(session, title="Two new starters", category="onboarding")
    begin_run(session, runbooks.get_runbook(session, "seat-top-up"), ticket=ticket, actor=crew.lia)
    return ticket


def actions(post: dict[str, object]) -> list[tuple[str, str]]:
    card = post["attachments"][0]["content"]  # type: ignore[index]
    return [(a["title"], a["url"]) for a in card.get("actions", [])]


def test_a_pending_approval_reaches_those_at_its_level_not_the_owner(
    people_session: Session, db: Database, settings: Settings, crew: Crew
) -> None:
    ticket = start(people_session, crew)
    (request,) = list_requests(people_session, ticket=ticket)
    assert (request.status, request.approver_level) == ("pending", "L2")
    assert crew.max_teams.posts == []  # nothing before the commit
    deliver_outbox(people_session, db, settings)
    # 300 is above L1's licence limit of 50 and inside L2's: both L2s may decide it.
    assert len(crew.max_teams.posts) == len(crew.kim_teams.posts) == 1
    assert crew.olu_teams.posts == [] and crew.lia_slack.posts == []
    titles = [t for t, _ in actions(crew.max_teams.posts[0])]
    assert titles == ["Approve", "Deny", "Open ticket"]
    urls = dict(actions(crew.max_teams.posts[0]))
    assert urls["Approve"].startswith("https://franchise.example/l/")
    assert urls["Open ticket"] == f"https://franchise.example/tickets/{ticket.id}"
    notes = people_session.scalars(
        select(TicketEvent.note).where(TicketEvent.kind == "person_notified")
    ).all()
    assert sorted(notes) == [
        f"notified Kim by Teams: approval #{request.id} waits for them",
        f"notified Max by Teams: approval #{request.id} waits for them",
    ]


def test_the_approve_link_decides_for_its_person_and_tells_the_requester(
    people_session: Session, db: Database, settings: Settings, crew: Crew
) -> None:
    ticket = start(people_session, crew)
    deliver_outbox(people_session, db, settings)
    token = dict(actions(crew.max_teams.posts[0]))["Approve"].rsplit("/", 1)[1]
    link = check_link(people_session, token, settings=settings, viewer=None, lock=True)
    line = apply_link(people_session, link, text="", via="a notification link")
    (request,) = list_requests(people_session, ticket=ticket)
    assert (request.status, request.decided_by_id) == ("approved", crew.max.id)
    assert line.startswith(f"Approval #{request.id} approved")
    deliver_outbox(people_session, db, settings)
    (post,) = crew.lia_slack.posts
    assert post["blocks"][0]["text"]["text"] == f"Approval #{request.id} approved"
    assert post["blocks"][1]["text"]["text"].startswith("Max approved your request")


def test_a_decision_in_the_inbox_tells_the_requester_but_not_the_decider(
    people_session: Session, db: Database, settings: Settings, crew: Crew
) -> None:
    ticket = start(people_session, crew)
    (request,) = list_requests(people_session, ticket=ticket)
    decide_request(people_session, request, by=crew.kim, approve=False, reason="not budgeted")
    deliver_outbox(people_session, db, settings)
    assert len(crew.lia_slack.posts) == 1
    assert "Kim denied your request" in crew.lia_slack.posts[0]["text"]
    # Kim heard of the pending request once; nothing about her own decision.
    assert len(crew.kim_teams.posts) == 1


def test_escalation_notifies_the_holder(
    people_session: Session, db: Database, settings: Settings, crew: Crew
) -> None:
    ticket = create_ticket(people_session, title="Printer on fire", body="smoke")
    handover = escalate(people_session, ticket, to="L2", by=crew.lia)
    assert handover.holder is not None and handover.holder.staff.id == crew.max.id
    deliver_outbox(people_session, db, settings)
    (post,) = crew.max_teams.posts
    body = post["attachments"][0]["content"]["body"]
    assert body[0]["text"] == f"Ticket #{ticket.id} escalated to you"
    assert crew.kim_teams.posts == []


def test_an_ask_reaches_the_owners_channels_and_says_so(
    people_session: Session, db: Database, settings: Settings, crew: Crew
) -> None:
    ticket = create_ticket(people_session, title="Client wants a discount")
    result = ask_owner(
        people_session,
        ticket=ticket,
        by=crew.lia,
        reason="other",
        question="Can we give them 10% off?",
        settings=settings,
    )
    assert result.outcome == "interruption"
    deliver_outbox(people_session, db, settings)
    result.settle(db)
    assert result.to_dict()["delivered"] == ["Teams"]
    assert result.to_dict()["delivery"] == "The owner was notified by Teams."
    (post,) = crew.olu_teams.posts
    titles = [t for t, _ in actions(post)]
    assert titles == ["Answer", "Open ticket"]
    # The owner answers through the link; Lia hears it on Slack.
    token = dict(actions(post))["Answer"].rsplit("/", 1)[1]
    link = check_link(people_session, token, settings=settings, viewer=None, lock=True)
    apply_link(people_session, link, text="Yes, 10% for a year.", via="a notification link")
    deliver_outbox(people_session, db, settings)
    (answer,) = crew.lia_slack.posts
    assert answer["blocks"][1]["text"]["text"] == "Yes, 10% for a year."


def test_an_ask_with_no_channel_at_all_says_nobody_was_told(
    people_session: Session, db: Database, settings: Settings
) -> None:
    initialise(people_session)
    lia = add_staff(
        people_session, name="Lia", email="lia@example.com", role="technician", level="L1"
    )
    add_staff(people_session, name="Olu", email="olu@example.com", role="owner", level="owner")
    ticket = create_ticket(people_session, title="Client wants a discount")
    result = ask_owner(
        people_session,
        ticket=ticket,
        by=lia,
        reason="other",
        question="10% off?",
        settings=settings,
    )
    deliver_outbox(people_session, db, settings)
    data = result.settle(db).to_dict()
    assert data["delivered"] == []
    assert data["delivery"].startswith(
        "No notification channel is configured, so the owner sees this only when they "
        "open Franchise"
    )


def test_an_owner_reply_reaches_the_asker(
    people_session: Session, db: Database, settings: Settings, crew: Crew
) -> None:
    ticket = create_ticket(people_session, title="Client wants a discount")
    result = ask_owner(
        people_session,
        ticket=ticket,
        by=crew.lia,
        reason="other",
        question="10%?",
        settings=settings,
    )
    reply_to_ask(people_session, result.contact_id, by=crew.olu, text="No discounts this year.")
    deliver_outbox(people_session, db, settings)
    (post,) = crew.lia_slack.posts
    assert post["blocks"][1]["text"]["text"] == "No discounts this year."


def test_nothing_is_queued_for_people_without_channels_or_smtp(
    people_session: Session, settings: Settings
) -> None:
    initialise(people_session)
    runbooks.save_runbook(people_session, SOURCE, file="seats.yaml")
    lia = add_staff(
        people_session, name="Lia", email="lia@example.com", role="technician", level="L1"
    )
    add_staff(people_session, name="Max", email="max@example.com", role="technician", level="L2")
    ticket = create_ticket(people_session, title="Two new starters", category="onboarding")
    begin_run(
        people_session,
        runbooks.get_runbook(people_session, "seat-top-up"),
        ticket=ticket,
        actor=lia,
    )
    assert people_session.scalars(select(OutboxItem)).all() == []
