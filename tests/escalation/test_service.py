"""The map stored as revisions, decisions stored on tickets, and escalating (DB tests)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.approvals.models import ApprovalRequest
from franchise.approvals.service import decide, request_for_action_step
from franchise.bootstrap import initialise
from franchise.clients.service import add_client
from franchise.db import Database, utcnow
from franchise.errors import Conflict, InvalidInput, PermissionDenied, Refused
from franchise.escalation import service
from franchise.escalation.facts import covering_runbook
from franchise.flows import runs
from franchise.runbooks import service as runbooks
from franchise.tickets.models import Ticket
from franchise.tickets.service import create_ticket, history
from tests.alerts.committed import BACKENDS, committed_database

DC_PATH = [
    ("scope", "Several or all users"),
    ("vpn-type", "FortiGate IPsec dial-up"),
    ("recent-change", "No change"),
    (
        "auth-server",
        "Domain controller down: offline in the RMM, not answering, and sign-ins fail everywhere",
    ),
]


def vpn_ticket(session: Session, **extra: object) -> Ticket:
    return create_ticket(
        session,
        title="VPN won't connect",
        body="FortiClient says the login failed; working from home today.",
        category="vpn",
        **extra,  # type: ignore[arg-type]
    )


def run_path(session: Session, ticket: Ticket, path: list[tuple[str, str]]) -> None:
    run = runbooks.start_run(session, runbooks.get_runbook(session, "vpn"), ticket=ticket)
    for step, reply in path:
        runbooks.answer_run(session, run, step=step, reply=reply)


def test_vpn_scenario_no_until_the_runbook_reaches_the_owner_outcome(
    ready: Session, tech: Staff
) -> None:
    ticket = vpn_ticket(ready)
    first = service.refresh_escalation(ready, ticket)
    assert ticket.custom_fields["escalation_allowed"] == "no"
    assert not [t for t in ticket.tags if t.startswith("escalate:")]
    assert (first.allowed, first.pending_step, first.rule) == (
        False,
        "scope",
        "runbook:vpn-auth-failure",
    )

    run_path(ready, ticket, DC_PATH)
    decision = service.refresh_escalation(ready, ticket)
    assert decision.to_dict() == {
        "allowed": True,
        "to": "owner",
        "rule": "runbook:vpn-auth-failure/dc-trouble",
        "emergency": True,
        # The ending's first sentence, from the starter vpn-auth-failure runbook.
        "reason": "Runbook 'vpn-auth-failure' reached escalate step 'dc-trouble': "
        "The domain controller (the LDAP / RADIUS authentication source) is actually down, "
        "so VPN and sign-in fail for everyone.",
        "pending_step": None,
    }
    assert ticket.custom_fields["escalation_allowed"] == "yes"
    assert "escalate:owner" in ticket.tags

    service.escalate_ticket(ready, ticket, to="owner", by=tech)
    assert (ticket.level, ticket.status) == ("owner", "escalated")
    changes = {(e.field, e.new_value) for e in history(ready, ticket)}
    assert ("level", "owner") in changes
    assert ("status", "escalated") in changes


def test_refresh_replaces_the_previous_level_tag_and_keeps_other_fields(
    ready: Session,
) -> None:
    ticket = vpn_ticket(ready, tags=["vip", "escalate:L2"])
    ticket.custom_fields = {"psa_board": "Service"}
    service.refresh_escalation(ready, ticket)
    assert ticket.tags == ["vip"]
    assert ticket.custom_fields == {"psa_board": "Service", "escalation_allowed": "no"}
    run_path(ready, ticket, DC_PATH)
    service.refresh_escalation(ready, ticket)
    ready.expire(ticket)
    assert ticket.tags == ["vip", "escalate:owner"]
    assert ticket.custom_fields["escalation_allowed"] == "yes"
    assert any(e.field == "custom_fields" for e in history(ready, ticket))


def test_escalation_refused_until_runbook_checks_done(ready: Session, tech: Staff) -> None:
    ticket = vpn_ticket(ready)
    with pytest.raises(Refused) as refused:
        service.escalate_ticket(ready, ticket, to="L2", by=tech)
    assert "do step 'scope' next" in refused.value.message
    assert refused.value.status == 409
    assert refused.value.errors[0]["pending_step"] == "scope"
    assert service.refusal_hint(refused.value) == "scope"
    assert (ticket.level, ticket.status) == ("L1", "new")


def test_owner_override_is_recorded_in_history(ready: Session, owner: Staff) -> None:
    ticket = vpn_ticket(ready)
    service.escalate_ticket(
        ready, ticket, to="L2", by=owner, override_reason="Client CEO travelling, L2 takes it"
    )
    assert (ticket.level, ticket.status) == ("L2", "escalated")
    events = history(ready, ticket)
    override = [e for e in events if e.kind == "escalation_override"]
    assert len(override) == 1
    assert override[0].actor_id == owner.id
    assert override[0].note is not None
    assert override[0].note.startswith("Client CEO travelling, L2 takes it")
    assert "scope" in override[0].note


def test_technician_may_not_override(ready: Session, tech: Staff) -> None:
    ticket = vpn_ticket(ready)
    with pytest.raises(PermissionDenied) as denied:
        service.escalate_ticket(ready, ticket, to="L2", by=tech, override_reason="in a hurry")
    assert "only the owner or an admin" in denied.value.message
    assert ticket.level == "L1"
    assert not [e for e in history(ready, ticket) if e.kind == "escalation_override"]


def test_escalating_above_the_allowed_level_is_refused_but_lower_is_fine(
    ready: Session, tech: Staff
) -> None:
    ticket = create_ticket(ready, title="Odd request about the coffee machine")
    assert service.check_escalation(ready, ticket).to == "L2"  # no runbook: the default
    with pytest.raises(Refused, match="allows up to L2"):
        service.escalate_ticket(ready, ticket, to="owner", by=tech)
    with pytest.raises(InvalidInput, match="already at L1"):
        service.escalate_ticket(ready, ticket, to="L1", by=tech)
    with pytest.raises(InvalidInput, match="unknown level"):
        service.escalate_ticket(ready, ticket, to="L9", by=tech)
    service.escalate_ticket(ready, ticket, to="L2", by=tech)
    assert ticket.level == "L2"


def test_client_tier_and_ticket_age_come_from_the_database(ready: Session) -> None:
    add_client(ready, name="Acme Legal", tier="premium")
    ticket = vpn_ticket(
        ready, client="Acme Legal", priority="high", created_at=utcnow() - timedelta(hours=5)
    )
    assert service.check_escalation(ready, ticket).rule == "premium-high-after-4-hours"
    soon = utcnow() - timedelta(hours=2)
    assert service.check_escalation(ready, ticket, now=soon).rule == "runbook:vpn-auth-failure"


def test_map_revisions_and_conflict(session: Session, owner: Staff) -> None:
    assert service.current_map(session).revision == 0  # shipped starter applies until saved
    assert service.load_starter(session) is True
    assert service.load_starter(session) is False
    current = service.current_map(session)
    assert current.revision == 1
    source = current.source.replace("older_than_hours: 4", "older_than_hours: 2")
    assert service.save_map(session, source, author=owner, note="faster", expected_revision=1) == (
        2,
        True,
    )
    assert service.save_map(session, source, expected_revision=2) == (2, False)
    with pytest.raises(Conflict, match="revision 2, not 1"):
        service.save_map(session, source + "\n# later\n", expected_revision=1)
    rules = {r.name: r for r in service.current_map(session).map.rules}
    assert rules["premium-high-after-4-hours"].when[0].older_than_hours == 2


def test_invalid_map_is_refused_with_lines_and_nothing_is_saved(session: Session) -> None:
    service.load_starter(session)
    source = service.current_map(session).source.replace("to: L2\n", "to: L3\n", 1)
    with pytest.raises(InvalidInput) as bad:
        service.save_map(session, source, file="edited.yaml")
    assert [(e["code"], e["file"]) for e in bad.value.errors] == [("unknown-level", "edited.yaml")]
    assert bad.value.errors[0]["line"] > 1
    assert service.current_map(session).revision == 1


def test_a_saved_rule_takes_effect_for_the_next_check(ready: Session) -> None:
    ticket = create_ticket(ready, title="Printer on fire", category="printer")
    assert service.check_escalation(ready, ticket).allowed is False  # printer runbook first
    source = service.current_map(ready).source.replace(
        "rules:\n",
        "rules:\n  - name: fire\n    when: {keywords: [on fire]}\n    to: owner\n"
        "    emergency: true\n    reason: Get out and phone the owner.\n",
        1,
    )
    service.save_map(ready, source, expected_revision=1)
    decision = service.check_escalation(ready, ticket)
    assert (decision.allowed, decision.rule, decision.emergency) == (True, "fire", True)
    assert decision.pending_step == "scope"  # still shown: the printer runbook waits


FIRE_RULE = (
    "rules:\n  - name: fire\n    when: {keywords: [on fire]}\n    to: owner\n"
    "    emergency: true\n    reason: Get out and phone the owner.\n"
)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_map_saved_in_another_transaction_is_used_by_the_next_refresh(
    backend: str, tmp_path: Path
) -> None:
    with committed_database(backend, tmp_path) as (url, db):
        with db.unit_of_work() as session:
            initialise(session)
            service.load_starter(session)
            ticket = create_ticket(session, title="Printer on fire", category="printer")
            assert service.refresh_escalation(session, ticket).rule != "fire"
            source = service.current_map(session).source
        other = Database.from_url(url)
        try:
            with other.unit_of_work() as session:
                service.save_map(session, source.replace("rules:\n", FIRE_RULE, 1))
        finally:
            other.dispose()
        with db.unit_of_work() as session:
            ticket = session.merge(ticket)
            assert service.refresh_escalation(session, ticket).rule == "fire"
            assert "escalate:owner" in ticket.tags
            assert service.current_map(session).revision == 2


def test_the_covering_runbook_is_the_attached_one_unless_archived(ready: Session) -> None:
    printer = runbooks.get_runbook(ready, "printer-problem")
    attached = create_ticket(ready, title="VPN and printer", category="vpn")
    attached.runbook_key = printer.key
    assert covering_runbook(ready, attached) is printer
    source = runbooks.current_source(ready, printer).replace(
        "status: validated", "status: archived", 1
    )
    runbooks.save_runbook(ready, source)
    vpn = covering_runbook(ready, attached)
    assert vpn is not None and (vpn.category, vpn.status) == ("vpn", "validated")


def test_only_a_validated_runbook_covers_a_category(ready: Session) -> None:
    ticket = create_ticket(ready, title="Printer jam", category="printer")
    printer = runbooks.get_runbook(ready, "printer-problem")
    assert covering_runbook(ready, ticket) is printer
    source = runbooks.current_source(ready, printer).replace(
        "status: validated", "status: draft", 1
    )
    runbooks.save_runbook(ready, source)
    assert covering_runbook(ready, ticket) is None
    assert covering_runbook(ready, create_ticket(ready, title="No category")) is None


COSTLY = """\
format: 2
key: costly-fix
title: A fix that costs more than L1 may spend
category: printer
status: validated
maintainer: L2
description: Buy a part.
start: check
steps:
  check:
    kind: check
    text: Is the part broken?
    options: {"Yes": buy, "Other": gone}
  buy:
    kind: action
    text: Buy the replacement part.
    estimate: {minutes: 20, cost: 180, impact: low, kind: hardware-purchase}
    options: {"Bought": fixed}
  fixed: {kind: resolve, text: Fixed.}
  gone: {kind: escalate, to: L2, text: Ask L2.}
"""


def test_a_step_waiting_on_approval_may_be_escalated_until_it_is_approved(
    ready: Session, tech: Staff
) -> None:
    senior = add_staff(ready, name="Sam", email="sam@example.com", role="technician", level="L2")
    runbooks.save_runbook(ready, COSTLY)
    ticket = create_ticket(
        ready, title="Fuser broken", category="printer", runbook_key="costly-fix"
    )
    run = runs.begin_run(
        ready, runbooks.get_runbook(ready, "costly-fix"), ticket=ticket, actor=tech
    )
    assert service.check_escalation(ready, ticket).allowed is False
    runs.record_answer(ready, run, step="check", reply="Yes", actor=tech)

    waiting = service.check_escalation(ready, ticket)
    assert (waiting.allowed, waiting.to, waiting.rule) == (
        True,
        "L2",
        "runbook:costly-fix/buy:approval",
    )
    request = ready.scalars(select(ApprovalRequest).where(ApprovalRequest.run_id == run.id)).one()
    decide(ready, request, by=senior, approve=False, reason="Quote first.")
    assert service.check_escalation(ready, ticket).to == "L2"  # denied: still stuck

    # Asked again and approved: the step can be done, so the runbook comes first again.
    again = request_for_action_step(
        ready, run=run, step=runbooks.run_state(ready, run).step, actor=tech
    )
    assert again is not None and again.id != request.id
    decide(ready, again, by=senior, approve=True, reason="Quote attached.")
    approved = service.check_escalation(ready, ticket)
    assert (approved.allowed, approved.rule, approved.pending_step) == (
        False,
        "runbook:costly-fix",
        "buy",
    )


def _offer_holds(session: Session, ticket: Ticket, by: Staff) -> service.EscalationOffer:
    """The offer for `by`, checked against escalate_ticket: whatever is offered is accepted,
    every higher level not offered is refused."""
    esc_map = service.current_map(session).map
    decision = service.check_escalation(session, ticket)
    offer = service.escalation_offer(esc_map, ticket, decision, can_override=by.is_manager)
    higher = [lv for lv in esc_map.levels if esc_map.rank(lv) > esc_map.rank(ticket.level)]
    accepted = []
    for level in higher:
        reason = "the client's CEO insists" if offer.override else None
        nested = session.begin_nested()
        try:
            service.escalate_ticket(session, ticket, to=level, by=by, override_reason=reason)
            accepted.append(level)
        except (Refused, PermissionDenied):
            pass
        finally:
            nested.rollback()
    if offer.to is None:
        assert accepted == []
    else:
        assert offer.to in accepted
    session.expire(ticket)
    return offer


def test_the_offer_is_only_what_escalating_accepts(
    ready: Session, tech: Staff, owner: Staff
) -> None:
    mid_run = vpn_ticket(ready)
    assert _offer_holds(ready, mid_run, tech) == service.EscalationOffer(None)
    assert _offer_holds(ready, mid_run, owner) == service.EscalationOffer("L2", override=True)

    plain = create_ticket(ready, title="Odd request about the coffee machine")
    assert _offer_holds(ready, plain, tech) == service.EscalationOffer("L2")
    service.escalate_ticket(ready, plain, to="L2", by=tech)
    # At L2, where the map sends it: going on to the owner would be refused.
    assert _offer_holds(ready, plain, tech) == service.EscalationOffer(None)

    emergency = vpn_ticket(ready)
    run_path(ready, emergency, DC_PATH)
    assert _offer_holds(ready, emergency, tech) == service.EscalationOffer("owner")

    emergency.status = "resolved"
    esc_map = service.current_map(ready).map
    decision = service.check_escalation(ready, emergency)
    assert service.escalation_offer(
        esc_map, emergency, decision, can_override=True
    ) == service.EscalationOffer(None)
