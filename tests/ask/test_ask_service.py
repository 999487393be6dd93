"""Ask the owner against the starter library, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.approvals.models import ApprovalRequest
from franchise.ask.service import ActionEstimate, ask_owner
from franchise.clients.models import ClientContact
from franchise.clients.service import add_client
from franchise.contacts.models import OwnerContact
from franchise.db import Database
from franchise.drills.service import start_drill
from franchise.errors import InvalidInput
from franchise.runbooks import service as runbooks
from franchise.settings import Settings
from franchise.tickets.models import Ticket, TicketEvent
from franchise.tickets.service import history
from tests.ask.fixtures import Team
from tests.notify.receiver import Receiver
from tests.support import deliver_outbox

# A Tuesday, 10:00 UTC: inside the default business hours.
TUESDAY = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def contact(session: Session, contact_id: int) -> OwnerContact:
    row = session.get(OwnerContact, contact_id)
    assert row is not None
    return row


def test_an_undone_runbook_step_deflects_a_technical_question(
    session: Session,
    team: Team,
    make_ticket: Callable[..., Ticket],
    settings: Settings,
    owner_inbox: Receiver,
) -> None:
    ticket = make_ticket("VPN fails for one user", category="vpn")
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.ana,
        reason="technical_decision",
        question="Should I reinstall FortiClient?",
        now=TUESDAY,
        settings=settings,
    )
    assert result.outcome == "deflection"
    assert result.answer.kind == "runbook_step"
    assert result.answer.text.startswith("Do step 'scope' of runbook 'vpn-auth-failure': ")
    assert "(Firewall admin > Log & Report" in result.answer.text
    row = contact(session, result.contact_id)
    assert (row.outcome, row.channel, row.reason) == ("deflection", "in_app", "technical_decision")
    assert row.answer == result.answer.text
    assert row.question == "Should I reinstall FortiClient?"
    assert owner_inbox.posts == []


def test_the_step_deflected_is_the_one_the_run_waits_on(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    ticket = make_ticket("VPN fails for one user", category="vpn")
    run = runbooks.start_run(
        session, runbooks.get_runbook(session, "vpn-auth-failure"), ticket=ticket
    )
    runbooks.answer_run(session, run, step="scope", reply="Only this user", actor=team.ana)
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.ana,
        reason="other",
        question="What now?",
        now=TUESDAY,
        settings=settings,
    )
    assert "step 'client-error'" in result.answer.text


def test_an_approval_inside_the_boundary_is_approved_and_deflected(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    ticket = make_ticket()
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.ana,
        reason="approval",
        question="May I buy a toner?",
        now=TUESDAY,
        settings=settings,
        estimate=ActionEstimate(
            action="Buy a toner cartridge", cost="45", minutes=15, impact="low"
        ),
    )
    assert (result.outcome, result.answer.kind) == ("deflection", "approval_approved")
    assert "Approved by your boundary: Buy a toner cartridge" in result.answer.text
    request = session.get(ApprovalRequest, result.approval_id)
    assert request is not None
    assert (request.status, request.decided_by_policy) == ("approved", True)


def test_an_approval_above_l1_is_deflected_to_the_l2_on_duty(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    ticket = make_ticket()
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.ana,
        reason="approval",
        question="New dock, 400?",
        now=TUESDAY,
        settings=settings,
        estimate=ActionEstimate(cost="400", impact="low"),
    )
    assert (result.outcome, result.answer.kind) == ("deflection", "approval_routed")
    assert "The L2 boundary covers it" in result.answer.text
    assert "Ask Bo Stone <bo@example.com>." in result.answer.text
    assert result.approval_status == "pending"
    request = session.get(ApprovalRequest, result.approval_id)
    assert request is not None
    assert request.approver_level == "L2"


def test_an_ask_with_a_cost_goes_to_the_level_whose_boundary_covers_it_whatever_the_reason(
    session: Session,
    team: Team,
    make_ticket: Callable[..., Ticket],
    settings: Settings,
    owner_inbox: Receiver,
) -> None:
    ticket = make_ticket()
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.ana,
        reason="technical_decision",
        question="Should we buy two more Business Premium seats?",
        now=TUESDAY,
        settings=settings,
        estimate=ActionEstimate(
            action="Two Business Premium seats", cost="300", impact="none", kind="licence-purchase"
        ),
    )
    # 300 is above L1's licence limit (50) and inside L2's (500): L2 decides, not the owner.
    assert (result.outcome, result.answer.kind) == ("deflection", "approval_routed")
    assert result.approval_status == "pending"
    request = session.get(ApprovalRequest, result.approval_id)
    assert request is not None and request.approver_level == "L2"
    assert owner_inbox.posts == []


def test_an_approval_no_boundary_covers_reaches_the_owner(
    session: Session,
    db: Database,
    team: Team,
    make_ticket: Callable[..., Ticket],
    settings: Settings,
    owner_inbox: Receiver,
) -> None:
    ticket = make_ticket("Replace the file server")
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.bo,
        reason="approval",
        question="Buy a new server?",
        now=TUESDAY,
        settings=settings,
        estimate=ActionEstimate(action="Buy a server", cost="6000", minutes=240, impact="high"),
    )
    assert (result.outcome, result.answer.kind) == ("interruption", "owner")
    assert "no boundary below the owner covers Buy a server" in result.answer.text
    assert result.approval_status == "pending"
    deliver_outbox(session, db, settings)
    assert len(owner_inbox.posts) == 1


def test_a_client_message_question_gets_the_template_for_the_ticket_status(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    client = add_client(session, name="Contoso")
    session.add(
        ClientContact(
            client_id=client.id, name="Carl", email="carl@contoso.example", is_primary=True
        )
    )
    ticket = make_ticket("Scanner does not e-mail", client=client.id)
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.ana,
        reason="customer_communication",
        question="What do I tell the client?",
        now=TUESDAY,
        settings=settings,
    )
    assert (result.outcome, result.answer.kind) == ("deflection", "template")
    assert result.template == "request-received"
    assert "stage acknowledged" in result.answer.text
    assert (
        f'"[#{ticket.id}] We\'ve received your request: Scanner does not e-mail"'
        in result.answer.text
    )
    assert f"franchise message send request-received --ticket {ticket.id}" in result.answer.text
    assert "Client message panel" in result.answer.text


def test_a_template_that_cannot_render_is_still_named(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    ticket = make_ticket("No client on this one")
    ticket.status = "waiting_on_client"
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.ana,
        reason="customer_communication",
        question="What do I send?",
        now=TUESDAY,
        settings=settings,
    )
    assert result.answer.kind == "template"
    assert result.template == "need-client-reply"
    assert "could not be rendered yet" in result.answer.text


def test_an_escalation_the_map_gives_to_l2_is_deflected_there(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    ticket = make_ticket("Odd licensing portal error")  # no runbook: the map's default
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.ana,
        reason="escalation",
        question="Can I escalate?",
        now=TUESDAY,
        settings=settings,
    )
    assert (result.outcome, result.answer.kind) == ("deflection", "escalation_level")
    assert "gives this to L2, not the owner (rule default)" in result.answer.text
    assert "Ask Bo Stone" in result.answer.text


def test_an_escalation_before_the_runbook_is_done_is_told_the_pending_step(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    ticket = make_ticket("VPN broken", category="vpn")
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.ana,
        reason="escalation",
        question="Escalate?",
        now=TUESDAY,
        settings=settings,
    )
    assert (result.outcome, result.answer.kind) == ("deflection", "escalation_pending")
    assert "Not yet" in result.answer.text
    assert "Do step 'scope' of runbook 'vpn-auth-failure'" in result.answer.text


def test_an_ask_nothing_answers_is_an_interruption_and_the_owner_is_notified(
    session: Session,
    db: Database,
    team: Team,
    make_ticket: Callable[..., Ticket],
    settings: Settings,
    owner_inbox: Receiver,
) -> None:
    ticket = make_ticket("Client wants a discount on the contract")
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.ana,
        reason="other",
        question="Can we give them 10% off?",
        now=TUESDAY,
        settings=settings,
    )
    assert (result.outcome, result.answer.kind) == ("interruption", "owner")
    assert owner_inbox.posts == []  # not before the ask is committed
    deliver_outbox(session, db, settings)
    result.settle(db)
    assert result.notification is not None
    assert (result.notification.state, result.notification.attempts) == ("delivered", 1)
    assert result.to_dict()["notification"]["sent"] is True
    assert owner_inbox.paths == ["/owner"]
    post = owner_inbox.posts[0]
    assert post["title"] == f"Ana Lee (L1) asks about ticket #{ticket.id}"
    assert f"Ticket: #{ticket.id} Client wants a discount on the contract" in post["message"]
    assert "Asked by: Ana Lee (L1)" in post["message"]
    assert "Reason: other" in post["message"]
    assert "Question: Can we give them 10% off?" in post["message"]
    row = contact(session, result.contact_id)
    assert (row.outcome, row.channel, row.emergency) == ("interruption", "in_app", False)
    assert row.answer is not None
    assert row.answer.endswith("Owner notified (1 notification service).")
    notes = session.scalars(
        select(TicketEvent.note).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "owner_ask"
        )
    ).all()
    assert notes == [f"asked the owner (other): interruption, owner (contact #{row.id})"]
    notified = session.scalars(
        select(TicketEvent.note).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "owner_notified"
        )
    ).all()
    assert notified == ["Owner notified (1 notification service)."]


def test_a_failed_notification_is_written_on_the_contact_and_is_not_fatal(
    session: Session,
    db: Database,
    team: Team,
    make_ticket: Callable[..., Ticket],
    tmp_path: Path,
    owner_inbox: Receiver,
) -> None:
    owner_inbox.status = 503
    settings = Settings(home=tmp_path, notify_urls=owner_inbox.url())
    result = ask_owner(
        session,
        ticket=make_ticket("Contract question"),
        by=team.ana,
        reason="other",
        question="Renew?",
        now=TUESDAY,
        settings=settings,
    )
    assert result.outcome == "interruption"
    deliver_outbox(session, db, settings)
    result.settle(db)
    assert result.notification is not None
    # A 503 may pass: tried again later, and said so on the contact.
    assert result.notification.state == "retrying"
    assert result.to_dict()["notification"]["sent"] is False
    row = contact(session, result.contact_id)
    assert row.answer is not None
    assert "Owner notification failed:" in row.answer
    assert "retrying at" in row.answer


def test_a_non_emergency_rule_to_the_owner_reaches_the_owner(
    session: Session,
    team: Team,
    make_ticket: Callable[..., Ticket],
    settings: Settings,
    owner_inbox: Receiver,
) -> None:
    ticket = make_ticket("CEO insists", tags=["exec-demands-owner"])
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.bo,
        reason="escalation",
        question="He wants you.",
        now=TUESDAY,
        settings=settings,
    )
    assert (result.outcome, result.answer.kind, result.answer.emergency) == (
        "interruption",
        "owner",
        False,
    )
    assert "rule client-executive-demands-owner" in result.answer.text


def test_an_emergency_by_the_map_reaches_the_owner_whatever_the_reason(
    session: Session,
    db: Database,
    team: Team,
    make_ticket: Callable[..., Ticket],
    settings: Settings,
    owner_inbox: Receiver,
) -> None:
    ticket = make_ticket("Domain controller down at HQ", category="vpn")
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.ana,
        reason="technical_decision",
        question="Nobody can log in",
        now=TUESDAY,
        settings=settings,
    )
    assert (result.outcome, result.answer.kind, result.answer.emergency) == (
        "interruption",
        "emergency",
        True,
    )
    assert contact(session, result.contact_id).emergency is True
    # The emergency raises the ticket to critical, in its history.
    assert ticket.priority == "critical"
    assert any(
        e.field == "priority" and e.note == f"emergency ask (contact #{result.contact_id})"
        for e in history(session, ticket)
    )
    deliver_outbox(session, db, settings)
    assert owner_inbox.posts[0]["title"].startswith("EMERGENCY: ")


def test_an_emergency_the_question_describes_reaches_the_owner(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    """The ticket says "printer"; the question says what is really happening. The map's
    keywords read the question too, so a live incident is not answered with a runbook step."""
    ticket = make_ticket("Cannot print to the office printer", category="printer")
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.ana,
        reason="escalation",
        question="Files on the file server are being renamed to .locked; a ransom note is there",
        emergency=True,
        now=TUESDAY,
        settings=settings,
    )
    assert (result.outcome, result.answer.kind, result.answer.emergency) == (
        "interruption",
        "emergency",
        True,
    )
    assert "confirmed-security-incident" in result.answer.text
    assert ticket.priority == "critical"


def test_an_emergency_flag_the_map_does_not_back_is_recorded_but_changes_nothing(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    ticket = make_ticket("VPN slow", category="vpn")
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.ana,
        reason="technical_decision",
        question="Urgent!",
        emergency=True,
        now=TUESDAY,
        settings=settings,
    )
    assert (result.outcome, result.answer.emergency, result.emergency_claimed) == (
        "deflection",
        False,
        True,
    )
    assert "Asked as an emergency; the escalation map does not make it one" in result.answer.text
    assert contact(session, result.contact_id).emergency is False
    assert ticket.priority != "critical"


def test_during_a_drill_an_ask_that_would_interrupt_is_refused_with_guidance(
    session: Session,
    team: Team,
    make_ticket: Callable[..., Ticket],
    settings: Settings,
    owner_inbox: Receiver,
) -> None:
    drill = start_drill(session, by=team.olivia, days=3, now=TUESDAY)
    ticket = make_ticket("Client wants a discount")
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.ana,
        reason="other",
        question="10% off?",
        now=TUESDAY + timedelta(hours=2),
        settings=settings,
    )
    assert (result.outcome, result.answer.kind) == ("refused", "drill_refused")
    assert f"offline for drill #{drill.id}" in result.answer.text
    assert any("L2 on duty: Bo Stone <bo@example.com>" in g for g in result.answer.guidance)
    assert any(g.startswith("Approval route:") for g in result.answer.guidance)
    row = contact(session, result.contact_id)
    assert (row.outcome, row.drill_id) == ("refused", drill.id)
    assert "L2 on duty" in (row.answer or "")
    assert owner_inbox.posts == []


def test_during_a_drill_the_refusal_names_the_runbook_step_and_the_approval_route(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    start_drill(session, days=3, now=TUESDAY)
    result = ask_owner(
        session,
        ticket=make_ticket("Buy a SAN"),
        by=team.bo,
        reason="approval",
        question="Buy a SAN?",
        now=TUESDAY + timedelta(hours=1),
        settings=settings,
        estimate=ActionEstimate(cost="20000", impact="high"),
    )
    assert result.outcome == "refused"
    assert result.approval_id is None  # nothing waits on an owner who is offline
    assert any("Approval route: Buy a SAN? needs the owner" in g for g in result.answer.guidance)


def test_during_a_drill_deflections_still_answer(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    drill = start_drill(session, days=3, now=TUESDAY)
    result = ask_owner(
        session,
        ticket=make_ticket("VPN down", category="vpn"),
        by=team.ana,
        reason="technical_decision",
        question="?",
        now=TUESDAY + timedelta(hours=1),
        settings=settings,
    )
    assert result.outcome == "deflection"
    assert contact(session, result.contact_id).drill_id == drill.id


def test_during_a_drill_an_emergency_by_the_map_passes_through(
    session: Session,
    db: Database,
    team: Team,
    make_ticket: Callable[..., Ticket],
    settings: Settings,
    owner_inbox: Receiver,
) -> None:
    drill = start_drill(session, days=3, now=TUESDAY)
    ticket = make_ticket("Ransomware note on the file server")
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.ana,
        reason="escalation",
        question="Files encrypted!",
        now=TUESDAY + timedelta(days=1),
        settings=settings,
    )
    assert (result.outcome, result.answer.emergency) == ("interruption", True)
    assert contact(session, result.contact_id).drill_id == drill.id
    deliver_outbox(session, db, settings)
    assert len(owner_inbox.posts) == 1


def test_during_a_drill_a_claimed_emergency_the_map_does_not_back_is_refused(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    start_drill(session, days=3, now=TUESDAY)
    result = ask_owner(
        session,
        ticket=make_ticket("Contract renewal"),
        by=team.ana,
        reason="other",
        question="Urgent!",
        emergency=True,
        now=TUESDAY + timedelta(hours=3),
        settings=settings,
    )
    assert result.outcome == "refused"
    assert any("emergency rule of the escalation map" in g for g in result.answer.guidance)


def test_after_the_drill_ends_asks_reach_the_owner_again(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    start_drill(session, days=1, now=TUESDAY)
    result = ask_owner(
        session,
        ticket=make_ticket("Contract renewal"),
        by=team.ana,
        reason="other",
        question="Renew?",
        now=TUESDAY + timedelta(days=1),
        settings=settings,
    )
    assert result.outcome == "interruption"
    assert contact(session, result.contact_id).drill_id is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reason", "gossip", "unknown reason 'gossip'"),
        ("question", "  ", "write the question"),
    ],
)
def test_bad_input_is_named(
    session: Session,
    team: Team,
    make_ticket: Callable[..., Ticket],
    settings: Settings,
    field: str,
    value: str,
    message: str,
) -> None:
    kwargs = {"reason": "other", "question": "q", field: value}
    with pytest.raises(InvalidInput, match=message):
        ask_owner(
            session, ticket=make_ticket(), by=team.ana, settings=settings, now=TUESDAY, **kwargs
        )
    assert session.scalars(select(OwnerContact)).all() == []


def test_the_owner_does_not_ask_the_owner(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    with pytest.raises(InvalidInput, match="owner does not ask the owner"):
        ask_owner(
            session,
            ticket=make_ticket(),
            by=team.olivia,
            reason="other",
            question="q",
            settings=settings,
        )
