"""Drill reviews and weekly reviews, closed by runbook revisions and rule changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.ask.service import ask_owner
from franchise.db import utcnow
from franchise.drills.contact_log import log_contact
from franchise.drills.models import Drill, ReviewItem
from franchise.drills.review import dispose_item, drill_review, earlier_open_items, week_review
from franchise.drills.service import start_drill
from franchise.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Refused
from franchise.escalation import service as escalation
from franchise.orgsettings.service import get_config, set_setting
from franchise.policydocs import service as policydocs
from franchise.runbooks import service as runbooks
from franchise.settings import Settings
from franchise.tickets.models import Ticket
from tests.ask.fixtures import Team


@pytest.fixture
def past_drill(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> Drill:
    """A one-day drill two days ago: one refusal, one emergency, one deflection."""
    start = utcnow() - timedelta(days=2)
    drill = start_drill(session, by=team.olivia, days=1, now=start)
    for title, reason, category in (
        ("Client wants a discount", "other", None),
        ("Domain controller down", "escalation", None),
        ("VPN fails for Carl", "technical_decision", "vpn"),
    ):
        ask_owner(
            session,
            ticket=make_ticket(title, category=category),
            by=team.ana,
            reason=reason,
            question=f"About: {title}",
            now=start + timedelta(hours=1),
            settings=settings,
        )
    return drill


def revise_vpn_runbook(session: Session, team: Team) -> int:
    row = runbooks.get_runbook(session, "vpn-auth-failure")
    source = runbooks.current_source(session, row).replace(
        "title: VPN won't connect", "title: VPN will not connect", 1
    )
    result = runbooks.save_runbook(session, source, author=team.olivia, note="drill lesson")
    return runbooks.revision(session, result.runbook).id


def tighten_critical_outage(session: Session, team: Team) -> int:
    source = escalation.current_map(session).source.replace(
        "L2 joins at once while L1 keeps working the runbook.",
        "L2 joins at once and phones the client; L1 keeps working the runbook.",
    )
    escalation.save_map(session, source, author=team.olivia, note="drill lesson")
    latest = policydocs.current(session, escalation.KIND)
    assert latest is not None
    return latest.id


def test_the_review_lists_what_reached_or_tried_to_reach_the_owner(
    session: Session, past_drill: Drill
) -> None:
    review = drill_review(session, past_drill.id)
    outcomes = [(i["ticket_title"], i["outcome"], i["emergency"]) for i in review["items"]]
    assert outcomes == [
        ("Client wants a discount", "refused", False),
        ("Domain controller down", "interruption", True),
    ]
    assert review["drill"]["state"] == "finished"
    assert (review["open"], review["review_complete"]) == (2, False)
    # Asking again creates nothing new.
    again = drill_review(session)
    assert [i["id"] for i in again["items"]] == [i["id"] for i in review["items"]]
    assert len(session.scalars(select(ReviewItem)).all()) == 2


def test_the_review_is_complete_only_when_every_item_is_disposed(
    session: Session, team: Team, past_drill: Drill
) -> None:
    first, second = drill_review(session, past_drill.id)["items"]
    revision_id = revise_vpn_runbook(session, team)
    item = dispose_item(
        session,
        first["id"],
        improve_runbook="vpn-auth-failure",
        note="discounts: sales runbook",
        by=team.olivia,
    )
    assert (item.disposition, item.runbook_revision_id) == ("improve_runbook", revision_id)
    assert drill_review(session, past_drill.id)["review_complete"] is False
    policy_id = tighten_critical_outage(session, team)
    item = dispose_item(
        session,
        second["id"],
        tighten_rule="critical-outage",
        note="L2 phones the client",
        by=team.olivia,
    )
    assert (item.disposition, item.policy_revision_id) == ("tighten_rule", policy_id)
    review = drill_review(session, past_drill.id)
    assert (review["open"], review["review_complete"]) == (0, True)
    shown = review["items"][1]
    assert (shown["rule"], shown["policy_revision"], shown["disposed_by"]) == (
        "critical-outage",
        2,
        "Olivia Owner",
    )
    assert review["items"][0]["runbook"] == "vpn-auth-failure"
    assert review["items"][0]["runbook_revision"] == 2


def test_improve_runbook_is_refused_until_the_runbook_is_revised_after_the_drill_began(
    session: Session, team: Team, past_drill: Drill
) -> None:
    item = drill_review(session, past_drill.id)["items"][0]
    with pytest.raises(Refused, match="revise the runbook first") as exc:
        dispose_item(session, item["id"], improve_runbook="vpn-auth-failure", note="n")
    assert "franchise runbook revise vpn-auth-failure" in exc.value.message
    assert session.get(ReviewItem, item["id"]).disposition is None


def test_tighten_rule_is_refused_until_the_map_changes_that_rule(
    session: Session, team: Team, past_drill: Drill
) -> None:
    item = drill_review(session, past_drill.id)["items"][0]
    with pytest.raises(Refused, match="escalation map has no revision since drill"):
        dispose_item(session, item["id"], tighten_rule="critical-outage", note="n")
    tighten_critical_outage(session, team)
    with pytest.raises(Refused, match="rule 'server-or-firewall-change' is unchanged"):
        dispose_item(session, item["id"], tighten_rule="server-or-firewall-change", note="n")
    with pytest.raises(InvalidInput, match="has no rule 'no-such-rule'"):
        dispose_item(session, item["id"], tighten_rule="no-such-rule", note="n")
    dispose_item(session, item["id"], tighten_rule="critical-outage", note="n")


def test_a_disposition_needs_one_kind_a_note_and_happens_once(
    session: Session, team: Team, past_drill: Drill
) -> None:
    item = drill_review(session, past_drill.id)["items"][0]
    revise_vpn_runbook(session, team)
    with pytest.raises(InvalidInput, match="give one disposition"):
        dispose_item(session, item["id"], note="n")
    with pytest.raises(InvalidInput, match="give one disposition"):
        dispose_item(
            session, item["id"], improve_runbook="vpn-auth-failure", tighten_rule="x", note="n"
        )
    with pytest.raises(InvalidInput, match="--note"):
        dispose_item(session, item["id"], improve_runbook="vpn-auth-failure", note=" ")
    with pytest.raises(PermissionDenied):
        dispose_item(session, item["id"], improve_runbook="vpn-auth-failure", note="n", by=team.bo)
    dispose_item(session, item["id"], improve_runbook="vpn-auth-failure", note="n")
    with pytest.raises(Conflict, match="already closed"):
        dispose_item(session, item["id"], improve_runbook="vpn-auth-failure", note="n")
    with pytest.raises(NotFound):
        dispose_item(session, 999_999, improve_runbook="vpn-auth-failure", note="n")


def test_a_running_drill_review_is_not_complete(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    start = utcnow() - timedelta(hours=1)
    drill = start_drill(session, days=3, now=start)
    review = drill_review(session)
    assert review["drill"]["id"] == drill.id
    assert (review["items"], review["review_complete"]) == ([], False)


def test_no_drill_no_review(session: Session, library: None) -> None:
    with pytest.raises(NotFound, match="no drill has run yet"):
        drill_review(session)


# --- weekly review -----------------------------------------------------------------------

WEDNESDAY = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)


def test_the_weekly_review_lists_interruptions_outside_drills(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    set_setting(session, "timezone", "Europe/Berlin")
    config = get_config(session)
    start_drill(session, days=1, at=WEDNESDAY + timedelta(days=1), now=WEDNESDAY)
    kept = log_contact(
        session,
        occurred_at=WEDNESDAY,
        channel="call",
        reason="approval",
        config=config,
        by=team.ana,
    )
    log_contact(
        session,
        occurred_at=WEDNESDAY,
        channel="call",
        reason="other",
        config=config,
        outcome="deflection",
    )
    log_contact(
        session,
        occurred_at=WEDNESDAY + timedelta(days=1, hours=1),
        channel="call",
        reason="other",
        config=config,
    )
    log_contact(
        session,
        occurred_at=WEDNESDAY + timedelta(days=7),
        channel="call",
        reason="other",
        config=config,
    )
    # Sunday 23:30 in Berlin is still this week; Monday 00:30 Berlin is the next.
    sunday = log_contact(
        session,
        occurred_at=datetime(2026, 3, 8, 22, 30, tzinfo=UTC),
        channel="text",
        reason="other",
        config=config,
    )
    log_contact(
        session,
        occurred_at=datetime(2026, 3, 8, 23, 30, tzinfo=UTC),
        channel="text",
        reason="other",
        config=config,
    )

    review = week_review(session, week=date(2026, 3, 5), now=WEDNESDAY + timedelta(days=10))
    assert review["week_start"] == "2026-03-02"
    assert [i["contact_id"] for i in review["items"]] == [kept.id, sunday.id]
    assert all(i["drill_id"] is None and i["week_start"] == "2026-03-02" for i in review["items"])
    assert (review["open"], review["review_complete"], review["complete_week"]) == (2, False, True)


def test_open_items_of_earlier_weeks_stay_listed_until_closed(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    now = utcnow()
    config = get_config(session)
    old = [
        log_contact(
            session,
            occurred_at=now - timedelta(weeks=weeks),
            channel="call",
            reason="other",
            config=config,
            by=team.ana,
        )
        for weeks in (3, 1)
    ]
    log_contact(
        session,
        occurred_at=now - timedelta(minutes=5),
        channel="call",
        reason="other",
        config=config,
    )  # this week's: listed in the week's review
    log_contact(
        session,
        occurred_at=now - timedelta(weeks=2),
        channel="call",
        reason="other",
        config=config,
        outcome="deflection",
    )  # not an interruption: no item
    earlier = earlier_open_items(session, now=now)
    assert [i["contact_id"] for i in earlier] == [c.id for c in old]
    revise_vpn_runbook(session, team)
    dispose_item(session, earlier[0]["id"], improve_runbook="vpn-auth-failure", note="done")
    assert [i["contact_id"] for i in earlier_open_items(session, now=now)] == [old[1].id]


def test_weekly_items_are_closed_by_changes_made_after_the_contact(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    now = utcnow()
    result = ask_owner(
        session,
        ticket=make_ticket("Contract renewal"),
        by=team.ana,
        reason="other",
        question="Renew?",
        now=now - timedelta(minutes=1),
        settings=settings,
    )
    review = week_review(session, now=now)
    (item,) = review["items"]
    assert item["contact_id"] == result.contact_id
    with pytest.raises(Refused):
        dispose_item(session, item["id"], improve_runbook="vpn-auth-failure", note="n")
    revise_vpn_runbook(session, team)
    dispose_item(session, item["id"], improve_runbook="vpn-auth-failure", note="n")
    assert week_review(session, now=now)["review_complete"] is True
