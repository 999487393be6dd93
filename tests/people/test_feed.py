"""My notifications in the app: every hand-off is listed for its person, channels or not,
and is read once opened, once its page is opened, or once somebody settled it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.approvals.service import list_requests
from franchise.ask.reply import reply_to_ask
from franchise.ask.service import ask_owner
from franchise.bootstrap import initialise
from franchise.db import Database, utcnow
from franchise.duty.service import set_shift
from franchise.errors import NotFound
from franchise.flows.approvals import decide_request
from franchise.flows.escalations import escalate
from franchise.flows.runs import begin_run
from franchise.outbox.models import OutboxItem
from franchise.people import feed
from franchise.people.cards import Notice
from franchise.people.models import StaffNotice
from franchise.people.service import describe_channels, set_channel
from franchise.runbooks import service as runbooks
from franchise.settings import Settings
from franchise.tickets.service import create_ticket
from tests.notify.receiver import receiver
from tests.people.test_notices import SOURCE
from tests.support import deliver_outbox


@pytest.fixture
def team(people_session: Session) -> dict[str, Staff]:
    """No SMTP and no chat channel for anybody: the feed is all they have."""
    session = people_session
    initialise(session)
    runbooks.save_runbook(session, SOURCE, file="seats.yaml")
    people = {
        "lia": add_staff(
            session, name="Lia", email="lia@example.com", role="technician", level="L1"
        ),
        "max": add_staff(
            session, name="Max", email="max@example.com", role="technician", level="L2"
        ),
        "kim": add_staff(
            session, name="Kim", email="kim@example.com", role="technician", level="L2"
        ),
        "olu": add_staff(session, name="Olu", email="olu@example.com", role="owner", level="owner"),
    }
    set_shift(session, level="L2", staff=people["max"], days="daily", hours="00:00-00:00")
    return people


def titles(session: Session, person: Staff, *, unread_only: bool = True) -> list[str]:
    return [n.title for n in feed.latest(session, person.id, unread_only=unread_only)]


def test_an_escalation_is_listed_for_its_holder_without_any_channel(
    people_session: Session, team: dict[str, Staff]
) -> None:
    ticket = create_ticket(people_session, title="Printer on fire", body="smoke")
    escalate(people_session, ticket, to="L2", by=team["lia"], note="Toner smoking; unplugged.")
    assert people_session.scalars(select(OutboxItem)).all() == []  # no channel at all
    (notice,) = feed.latest(people_session, team["max"].id)
    assert notice.title == f"Ticket #{ticket.id} escalated to you"
    assert notice.link == f"/tickets/{ticket.id}" and notice.unread
    assert feed.unread_count(people_session, team["max"].id) == 1
    assert titles(people_session, team["kim"]) == []
    assert titles(people_session, team["lia"]) == []


def test_an_approval_decided_by_one_decider_is_read_for_the_other_and_told_to_the_requester(
    people_session: Session, team: dict[str, Staff]
) -> None:
    ticket = create_ticket(people_session, title="Two new starters", category="onboarding")
    begin_run(
        people_session,
        runbooks.get_runbook(people_session, "seat-top-up"),
        ticket=ticket,
        actor=team["lia"],
    )
    (request,) = list_requests(people_session, ticket=ticket)
    for name in ("max", "kim"):
        (notice,) = feed.latest(people_session, team[name].id)
        assert notice.title == f"Approval #{request.id} waits for you"
        assert notice.link == f"/approvals#approval-{request.id}"
        assert notice.text == "Lia asks to: Buy two extra seats."
        assert "Cost: $300.00" in notice.facts
    decide_request(people_session, request, by=team["kim"], approve=True, reason="budgeted")
    # Max no longer needs to act; his notice stays in the list, read.
    assert feed.unread_count(people_session, team["max"].id) == 0
    assert titles(people_session, team["max"], unread_only=False) == [
        f"Approval #{request.id} waits for you"
    ]
    (told,) = feed.latest(people_session, team["lia"].id)
    assert told.title == f"Approval #{request.id} approved"
    assert told.text == "Kim approved your request: Buy two extra seats."
    assert "Reason: budgeted" in told.facts
    assert told.link == f"/tickets/{ticket.id}"


def test_an_ask_reaches_the_owners_feed_and_the_answer_the_askers(
    people_session: Session, settings: Settings, team: dict[str, Staff]
) -> None:
    ticket = create_ticket(people_session, title="Client wants a discount")
    result = ask_owner(
        people_session,
        ticket=ticket,
        by=team["lia"],
        reason="other",
        question="Can we give them 10% off?",
        settings=settings,
    )
    assert result.outcome == "interruption"
    (asked,) = feed.latest(people_session, team["olu"].id)
    assert asked.link == f"/dashboard#ask-{result.contact_id}"
    assert "Can we give them 10% off?" in asked.text
    assert "Asked by: Lia (L1)" in asked.facts
    reply_to_ask(people_session, result.contact_id, by=team["olu"], text="Yes, 10% for a year.")
    assert feed.unread_count(people_session, team["olu"].id) == 0  # answered: settled
    (answer,) = feed.latest(people_session, team["lia"].id)
    assert answer.title == f"The owner answered your question (ask #{result.contact_id})"
    assert answer.text == "Yes, 10% for a year."
    assert answer.link == f"/tickets/{ticket.id}"


def test_opening_reading_all_and_opening_the_page_mark_notices_read(
    people_session: Session, team: dict[str, Staff]
) -> None:
    max_ = team["max"]
    first = create_ticket(people_session, title="VPN down at HQ")
    second = create_ticket(people_session, title="Backup missing")
    third = create_ticket(people_session, title="Disk full")
    for ticket in (first, second, third):
        escalate(people_session, ticket, to="L2", by=team["lia"], note="Over to L2.")
    assert feed.unread_count(people_session, max_.id) == 3
    newest = feed.latest(people_session, max_.id)[0]
    assert feed.open_notice(people_session, max_.id, newest.id) == f"/tickets/{third.id}"
    assert feed.unread_count(people_session, max_.id) == 2
    # Opening the ticket page reads what is about that ticket, and only that.
    assert feed.read_where_shown(people_session, max_.id, f"/tickets/{first.id}") == 1
    assert feed.read_where_shown(people_session, max_.id, f"/tickets/{first.id}") == 0
    assert titles(people_session, max_) == [f"Ticket #{second.id} escalated to you"]
    assert feed.mark_all_read(people_session, max_.id) == 1
    assert feed.unread_count(people_session, max_.id) == 0
    # Someone else's notice is not theirs to open.
    with pytest.raises(NotFound):
        feed.open_notice(people_session, team["kim"].id, newest.id)


def test_a_page_path_reads_its_fragments_but_not_a_longer_path(
    people_session: Session, team: dict[str, Staff]
) -> None:
    olu = team["olu"]
    for link in ("/dashboard#ask-4", "/dashboard", "/dashboard-old", "/tickets/12"):
        feed.record(people_session, olu.id, Notice(link, "x"), ticket_id=None, link=link)
    assert feed.read_where_shown(people_session, olu.id, "/dashboard") == 2
    assert sorted(titles(people_session, olu)) == ["/dashboard-old", "/tickets/12"]


def test_read_notices_older_than_the_retention_go_when_a_new_one_comes(
    people_session: Session, team: dict[str, Staff]
) -> None:
    kim = team["kim"]
    old = feed.record(people_session, kim.id, Notice("old, read", "x"), ticket_id=None, link="/me")
    kept = feed.record(
        people_session, kim.id, Notice("old, unread", "x"), ticket_id=None, link="/me"
    )
    people_session.flush()
    long_ago = utcnow() - feed.KEEP_READ - timedelta(days=1)
    old.created_at = kept.created_at = long_ago
    old.read_at = long_ago
    people_session.flush()
    feed.record(people_session, kim.id, Notice("new", "x"), ticket_id=None, link="/me")
    people_session.flush()
    left = people_session.scalars(select(StaffNotice.title).where(StaffNotice.staff_id == kim.id))
    assert sorted(left) == ["new", "old, unread"]


def test_a_stored_link_that_leaves_the_app_is_not_followed(
    people_session: Session, team: dict[str, Staff]
) -> None:
    row = feed.record(
        people_session, team["kim"].id, Notice("odd", "x"), ticket_id=None, link="//evil.example"
    )
    people_session.flush()
    assert feed.open_notice(people_session, team["kim"].id, row.id) == "/me"


def test_a_channel_whose_webhook_refuses_says_so_where_its_person_looks(
    people_session: Session, db: Database, settings: Settings, team: dict[str, Staff]
) -> None:
    max_ = team["max"]
    with receiver() as teams:
        set_channel(
            people_session, max_, kind="teams", url=teams.http_url("/max"), by=max_,
            settings=settings,
        )  # fmt: skip
        people_session.flush()
        ((view,),) = [describe_channels(people_session, max_, settings)]
        assert view.trouble is None  # nothing sent yet
        # The Workflows flow was deleted: Teams answers 404, which no retry can mend.
        teams.status = 404
        first = create_ticket(people_session, title="VPN down at HQ")
        escalate(people_session, first, to="L2", by=team["lia"], note="Over to L2.")
        deliver_outbox(people_session, db, settings)
        (view,) = describe_channels(people_session, max_, settings)
        assert view.trouble == (
            "the last notification was not delivered: Teams webhook answered HTTP 404"
        )
        assert view.to_dict()["trouble"] == view.trouble
        # Mended: the next notice arrives and the warning goes.
        teams.status = 200
        second = create_ticket(people_session, title="Backup missing")
        escalate(people_session, second, to="L2", by=team["lia"], note="Over to L2.")
        deliver_outbox(people_session, db, settings)
        (view,) = describe_channels(people_session, max_, settings)
        assert view.trouble is None
        assert len(teams.posts) == 2
