"""Which runbook a ticket follows: attached on opening only when the match is sure enough,
offered otherwise; attached, replaced and detached by a technician with a reason; running a
runbook attaches it. The escalation gate and the client messages follow the attachment."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.ask.service import pending_step
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.errors import InvalidInput
from franchise.escalation.service import check_escalation
from franchise.flows.opening import open_ticket
from franchise.flows.runbook_choice import attach_runbook, detach_runbook
from franchise.flows.runs import begin_run
from franchise.messages.service import render_for_ticket
from franchise.runbooks import service as runbooks
from franchise.suggest.calibration import ATTACH_THRESHOLD
from franchise.tickets.attachment import attach_for_run
from franchise.tickets.models import Ticket, TicketEvent
from franchise.tickets.service import history
from tests.support import CliInvoker

TEAMS = "Teams crashes every time I share my screen in a meeting"
VPN_TITLE = "VPN won't connect for Dana: certificate error"
VPN_BODY = "Dana gets 'certificate expired' in FortiClient when working from home since Monday."
DEFAULT_REASON = "No runbook covers this ticket, so L2 may take it"


@pytest.fixture
def tech(session: Session) -> Staff:
    initialise(session)
    return add_staff(session, name="Lia", email="lia@example.com", role="technician", level="L1")


def changes(session: Session, ticket: Ticket, field: str) -> list[TicketEvent]:
    return [e for e in history(session, ticket) if e.field == field]


def test_an_out_of_scope_ticket_gets_no_runbook_and_the_maps_default_decides(
    session: Session, tech: Staff
) -> None:
    ticket, suggestions = open_ticket(session, title=TEAMS, actor=tech)
    assert (ticket.runbook_key, ticket.category, ticket.runbook_source) == (None, None, None)
    # The best guess is kept as an offer, with its confidence, not attached.
    assert ticket.suggested_runbook_key == suggestions[0].key
    assert ticket.suggestion_confidence is not None
    assert ticket.suggestion_confidence < ATTACH_THRESHOLD
    decision = check_escalation(session, ticket)
    assert (decision.allowed, decision.to, decision.rule) == (True, "L2", "default")
    assert decision.reason.startswith(DEFAULT_REASON)
    assert ticket.custom_fields["escalation_allowed"] == "yes"
    # The offered runbook's own resolved message ("Your account is unlocked") is not used.
    message = render_for_ticket(session, ticket, "resolved", to="sam@example.com")
    assert message.template.runbook is None
    assert "unlocked" not in message.subject.lower()


def test_a_low_confidence_suggestion_is_offered_not_attached(session: Session, tech: Staff) -> None:
    # A VPN ticket in too few words: the VPN runbook is the best match, but not sure enough.
    vague, _ = open_ticket(
        session,
        title="VPN down",
        body="Can't get in.",
    )
    assert vague.suggested_runbook_key == "vpn-auth-failure"
    assert vague.suggestion_confidence is not None
    assert 0.5 < vague.suggestion_confidence < ATTACH_THRESHOLD
    assert (vague.runbook_key, vague.category) == (None, None)
    assert check_escalation(session, vague).rule == "default"
    clear, _ = open_ticket(session, title=VPN_TITLE, body=VPN_BODY)
    assert (clear.runbook_key, clear.category, clear.runbook_source) == (
        "vpn-auth-failure",
        "vpn",
        "suggestion",
    )
    assert clear.suggestion_confidence is not None
    assert clear.suggestion_confidence >= ATTACH_THRESHOLD
    assert not clear.category_by_hand
    decision = check_escalation(session, clear)
    assert (decision.allowed, decision.rule) == (False, "runbook:vpn-auth-failure")


def test_attaching_the_offered_runbook_puts_the_ticket_behind_its_gate(
    session: Session, tech: Staff
) -> None:
    ticket, _ = open_ticket(session, title=TEAMS)
    attach_runbook(session, ticket, "account-lockout", actor=tech, reason="It is a lockout")
    assert (ticket.runbook_key, ticket.category, ticket.runbook_source) == (
        "account-lockout",
        "account-lockout",
        "technician",
    )
    (event,) = changes(session, ticket, "runbook_key")
    assert (event.old_value, event.new_value, event.note) == (
        None,
        "account-lockout",
        "It is a lockout",
    )
    assert event.actor_id == tech.id
    decision = check_escalation(session, ticket)
    assert (decision.allowed, decision.pending_step) == (False, "identity")
    assert ticket.custom_fields["escalation_allowed"] == "no"


def test_replacing_a_runbook_is_recorded_in_the_history(session: Session, tech: Staff) -> None:
    ticket, _ = open_ticket(session, title=VPN_TITLE, body=VPN_BODY)
    attach_runbook(
        session, ticket, "printer-problem", actor=tech, reason="The VPN is fine; it is the MFP"
    )
    assert (ticket.runbook_key, ticket.category) == ("printer-problem", "printer")
    (runbook_change,) = changes(session, ticket, "runbook_key")
    assert (runbook_change.old_value, runbook_change.new_value) == (
        "vpn-auth-failure",
        "printer-problem",
    )
    assert runbook_change.note == "The VPN is fine; it is the MFP"
    (category_change,) = changes(session, ticket, "category")
    assert (category_change.old_value, category_change.new_value) == ("vpn", "printer")
    assert check_escalation(session, ticket).rule == "runbook:printer-problem"


def test_a_category_set_by_hand_stays_when_the_runbook_changes(
    session: Session, tech: Staff
) -> None:
    ticket, _ = open_ticket(session, title=VPN_TITLE, body=VPN_BODY, category="vpn")
    assert (ticket.runbook_key, ticket.runbook_source) == ("vpn-auth-failure", "category")
    assert ticket.category_by_hand
    attach_runbook(session, ticket, "mfa-problem", actor=tech, reason="Her token expired too")
    assert (ticket.runbook_key, ticket.category) == ("mfa-problem", "vpn")
    assert changes(session, ticket, "category") == []


def test_detaching_restores_the_maps_default(session: Session, tech: Staff) -> None:
    ticket, _ = open_ticket(session, title=VPN_TITLE, body=VPN_BODY)
    assert not check_escalation(session, ticket).allowed
    detach_runbook(session, ticket, actor=tech, reason="Their ISP is down, not our VPN")
    assert (ticket.runbook_key, ticket.category, ticket.runbook_source) == (
        None,
        None,
        "detached",
    )
    (event,) = changes(session, ticket, "runbook_key")
    assert (event.old_value, event.new_value) == ("vpn-auth-failure", None)
    assert event.note == "Their ISP is down, not our VPN"
    decision = check_escalation(session, ticket)
    assert (decision.allowed, decision.to, decision.rule) == (True, "L2", "default")
    assert ticket.custom_fields["escalation_allowed"] == "yes"
    # Generic wording again: the VPN runbook's own resolved message is not used.
    message = render_for_ticket(session, ticket, "resolved", to="dana@example.com")
    assert message.template.runbook is None
    with pytest.raises(InvalidInput, match="has no runbook attached"):
        detach_runbook(session, ticket, actor=tech, reason="again")


def test_detaching_with_a_hand_set_category_keeps_it_but_no_runbook_covers(
    session: Session, tech: Staff
) -> None:
    ticket, _ = open_ticket(session, title=VPN_TITLE, body=VPN_BODY, category="vpn")
    detach_runbook(session, ticket, actor=tech, reason="Not a VPN fault after all")
    # The category's runbook would cover it by category alone; detached, it does not.
    assert (ticket.runbook_key, ticket.category) == (None, "vpn")
    assert check_escalation(session, ticket).rule == "default"


def test_detaching_a_category_only_cover_is_still_in_the_history(
    session: Session, tech: Staff
) -> None:
    # A PSA import with a category and no runbook among the suggestions of that category.
    ticket, _ = open_ticket(session, title=TEAMS, category="backup")
    assert (ticket.runbook_key, ticket.category) == (None, "backup")
    assert check_escalation(session, ticket).rule == "runbook:backup-missing"
    detach_runbook(session, ticket, actor=tech, reason="Nothing to do with backups")
    (note,) = [e for e in history(session, ticket) if e.kind == "runbook_detached"]
    assert note.note == "backup: Nothing to do with backups"
    assert check_escalation(session, ticket).rule == "default"


def test_running_a_runbook_attaches_it(session: Session, tech: Staff) -> None:
    ticket, _ = open_ticket(session, title=VPN_TITLE, body=VPN_BODY)
    begin_run(session, runbooks.get_runbook(session, "mfa-problem"), ticket=ticket, actor=tech)
    assert (ticket.runbook_key, ticket.category, ticket.runbook_source) == (
        "mfa-problem",
        "mfa",
        "technician",
    )
    (event,) = changes(session, ticket, "runbook_key")
    assert (event.old_value, event.new_value, event.note) == (
        "vpn-auth-failure",
        "mfa-problem",
        "ran runbook mfa-problem",
    )
    assert check_escalation(session, ticket).rule == "runbook:mfa-problem"
    # Running the attached runbook again changes nothing in the history.
    attach_for_run(session, ticket, "mfa-problem", actor=tech)
    assert len(changes(session, ticket, "runbook_key")) == 1


def test_a_run_of_a_runbook_detached_later_no_longer_holds_the_ticket(
    session: Session, tech: Staff
) -> None:
    ticket, _ = open_ticket(session, title=TEAMS)
    begin_run(session, runbooks.get_runbook(session, "account-lockout"), ticket=ticket, actor=tech)
    assert check_escalation(session, ticket).pending_step == "identity"
    held = pending_step(session, ticket)
    assert held is not None and held.step == "identity"
    message = render_for_ticket(session, ticket, "resolved", to="sam@example.com")
    assert message.template.runbook == "account-lockout"
    detach_runbook(session, ticket, actor=tech, reason="Wrong runbook: Teams itself crashes")
    assert check_escalation(session, ticket).rule == "default"
    assert pending_step(session, ticket) is None  # asking the owner is not held back either
    message = render_for_ticket(session, ticket, "resolved", to="sam@example.com")
    assert message.template.runbook is None
    # Replaced instead: the old run no longer speaks for the ticket, the new runbook does.
    attach_runbook(session, ticket, "endpoint-offline", actor=tech, reason="Laptop drops off")
    assert check_escalation(session, ticket).rule == "runbook:endpoint-offline"


def test_attaching_needs_a_reason_and_a_current_runbook(session: Session, tech: Staff) -> None:
    ticket, _ = open_ticket(session, title=TEAMS)
    with pytest.raises(InvalidInput, match="say why"):
        attach_runbook(session, ticket, "account-lockout", actor=tech, reason="  ")
    with pytest.raises(InvalidInput, match="longer than 5000"):
        attach_runbook(session, ticket, "account-lockout", actor=tech, reason="x" * 5001)
    attach_runbook(session, ticket, "account-lockout", actor=tech, reason="x" * 5000)
    with pytest.raises(InvalidInput, match="already attached"):
        attach_runbook(session, ticket, "account-lockout", actor=tech, reason="again")
    source = (runbooks.STARTER / "printer-problem.yaml").read_text(encoding="utf-8")
    runbooks.save_runbook(session, source.replace("status: validated", "status: archived", 1))
    with pytest.raises(InvalidInput, match="archived"):
        attach_runbook(session, ticket, "printer-problem", actor=tech, reason="the MFP")
    assert ticket.runbook_key == "account-lockout"


def test_changing_the_category_by_hand_is_recorded_and_brings_its_runbook(
    session: Session, tech: Staff
) -> None:
    from franchise.flows.runbook_choice import change_category

    ticket, _ = open_ticket(session, title=VPN_TITLE, body=VPN_BODY, actor=tech)
    assert (ticket.category, ticket.runbook_key) == ("vpn", "vpn-auth-failure")
    with pytest.raises(InvalidInput, match="say why"):
        change_category(session, ticket, "mfa", actor=tech, reason=" ")
    with pytest.raises(InvalidInput, match="unknown category 'hr'"):
        change_category(session, ticket, "hr", actor=tech, reason="x")
    change_category(session, ticket, "mfa", actor=tech, reason="It is the MFA prompt, not VPN")
    assert (ticket.category, ticket.category_by_hand) == ("mfa", True)
    # The runbook came with the suggestion: the new category's runbook takes its place.
    assert (ticket.runbook_key, ticket.runbook_source) == ("mfa-problem", "category")
    [event] = changes(session, ticket, "category")
    assert (event.old_value, event.new_value, event.note) == (
        "vpn",
        "mfa",
        "It is the MFA prompt, not VPN",
    )
    assert changes(session, ticket, "runbook_key")[-1].new_value == "mfa-problem"
    with pytest.raises(InvalidInput, match="already in category 'mfa'"):
        change_category(session, ticket, "mfa", actor=tech, reason="again")


def test_a_category_change_keeps_the_runbook_a_technician_chose(
    session: Session, tech: Staff
) -> None:
    from franchise.flows.runbook_choice import change_category

    ticket, _ = open_ticket(session, title=TEAMS, actor=tech)
    attach_runbook(session, ticket, "endpoint-offline", actor=tech, reason="Laptop drops off")
    change_category(session, ticket, "printer", actor=tech, reason="Filed under printers")
    assert (ticket.category, ticket.runbook_key, ticket.runbook_source) == (
        "printer",
        "endpoint-offline",
        "technician",
    )
    change_category(session, ticket, None, actor=tech, reason="Let the runbook decide")
    assert (ticket.category, ticket.category_by_hand) == (None, False)


def test_cli_ticket_category(cli: CliInvoker, db: Database) -> None:
    with db.unit_of_work() as session:
        initialise(session)
        ticket, _ = open_ticket(session, title=VPN_TITLE, body=VPN_BODY)
        ticket_id = ticket.id
    refused = cli("ticket", "category", str(ticket_id), "mfa")
    assert refused.exit_code != 0
    assert "say why" in refused.output
    result = cli(
        "ticket", "category", str(ticket_id), "mfa", "--reason", "MFA prompt loop", "--json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["category"], data["runbook_key"]) == ("mfa", "mfa-problem")
