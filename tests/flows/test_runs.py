"""A run moves: the client profile answers what it knows, answers are saved to it, a step
answered twice is refused with the way to change it, an emergency ending raises the ticket
to critical, and a step waiting on approval says what blocks it."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.approvals.service import decide, list_requests
from franchise.bootstrap import initialise
from franchise.clients.facts import facts_of, list_facts, set_fact
from franchise.clients.models import Client
from franchise.clients.service import add_client
from franchise.errors import Conflict, InvalidInput, Refused
from franchise.flows.runs import begin_run, record_answer, runner_view, step_back
from franchise.runbooks import service as runbooks
from franchise.runbooks.models import RunbookRun
from franchise.tickets import lifecycle
from franchise.tickets.models import Ticket
from franchise.tickets.service import create_ticket, history

RUNBOOK = """\
format: 2
key: remote-access
title: Remote access fails
category: vpn
status: validated
fallback: {to: L2, text: Attach the client log.}
done_when: [Root cause recorded in the ticket]
start: product
steps:
  product:
    kind: check
    text: Which VPN does the client use?
    fact: vpn
    options: {"FortiGate SSL-VPN": forti, "Cisco Secure Client": cisco}
  forti:
    kind: check
    text: Does FortiClient show "Credential or SSLVPN configuration is wrong (-7200)"?
    options: {"Yes": reset, "No, the tunnel drops": buy-licence, "Files are being encrypted": ransom}
  cisco:
    kind: check
    text: Is the AnyConnect certificate expired?
    options: {"Yes": renew, "No": to-l2}
  reset:
    kind: resolve
    text: Password reset, tunnel up.
    done_when: [User connected for 15 minutes]
  renew:
    kind: resolve
    text: Certificate renewed.
    done_when: [Certificate expiry recorded]
  buy-licence:
    kind: action
    text: Buy 10 more FortiToken licences.
    estimate: {minutes: 20, cost: 400, impact: none, kind: licence-purchase}
    on_denied: to-l2
    options: {"Bought": reset}
  to-l2: {kind: escalate, to: L2, text: Needs the firewall.}
  ransom: {kind: escalate, to: owner, emergency: true, text: Ransomware in progress.}
edge_cases:
  - when: The firewall was upgraded last night.
    do: Do not change the VPN settings; escalate to L2 with the firmware version.
    steps: [forti]
    escalate: L2
"""


@pytest.fixture
def world(session: Session) -> tuple[Staff, Client, Ticket]:
    initialise(session)
    runbooks.save_runbook(session, RUNBOOK, file="remote-access.yaml")
    tech = add_staff(session, name="Lia", email="lia@example.com", role="technician", level="L1")
    client = add_client(session, name="Harbour Dental")
    ticket = create_ticket(session, title="VPN fails for Ana", client=client.id, category="vpn")
    return tech, client, ticket


def start(session: Session, ticket: Ticket, tech: Staff) -> RunbookRun:
    return begin_run(
        session, runbooks.get_runbook(session, "remote-access"), ticket=ticket, actor=tech
    )


def test_a_check_the_profile_knows_is_answered_from_it(
    session: Session, world: tuple[Staff, Client, Ticket]
) -> None:
    tech, client, ticket = world
    set_fact(session, client, "vpn", "fortigate ssl-vpn", by=tech)
    run = start(session, ticket, tech)
    view = runner_view(session, run)
    assert view["path"] == [{"step": "product", "answer": "FortiGate SSL-VPN"}]
    assert view["next_step"] == "forti"
    (step,) = runbooks.run_steps(session, run)
    assert step.note == "answered from the client profile (vpn = fortigate ssl-vpn)"
    # The technician may change it: stepping back returns to the fact's check.
    step_back(session, ticket, actor=tech)
    view = runner_view(session, run)
    assert view["next_step"] == "product"
    assert view["next"]["fact"] == {
        "key": "vpn",
        "value": "fortigate ssl-vpn",
        "answer": "FortiGate SSL-VPN",
        "can_save": True,
    }


def test_a_profile_value_that_is_no_option_is_not_used(
    session: Session, world: tuple[Staff, Client, Ticket]
) -> None:
    tech, client, ticket = world
    set_fact(session, client, "vpn", "WatchGuard", by=tech)
    run = start(session, ticket, tech)
    assert runner_view(session, run)["next_step"] == "product"


def test_an_answer_can_be_saved_to_the_profile_with_its_origin(
    session: Session, world: tuple[Staff, Client, Ticket]
) -> None:
    tech, client, ticket = world
    run = start(session, ticket, tech)
    assert runner_view(session, run)["next"]["fact"]["value"] is None
    record_answer(session, run, step="product", reply="2", actor=tech, save_fact=True)
    assert facts_of(session, client.id) == {"vpn": "Cisco Secure Client"}
    (fact,) = list_facts(session, client)
    assert fact.origin == f"saved from a runbook answer on ticket #{ticket.id}"
    assert any(e.kind == "fact-saved" for e in history(session, ticket))


def test_answering_a_step_already_answered_says_how_to_change_it(
    session: Session, world: tuple[Staff, Client, Ticket]
) -> None:
    tech, _client, ticket = world
    run = start(session, ticket, tech)
    record_answer(session, run, step="product", reply="FortiGate SSL-VPN", actor=tech)
    with pytest.raises(
        Conflict, match=r"step 'product' was already answered 'FortiGate SSL-VPN'.*--back"
    ):
        record_answer(session, run, step="product", reply="Cisco Secure Client", actor=tech)


def test_stepping_back_is_recorded_in_the_ticket_history(
    session: Session, world: tuple[Staff, Client, Ticket]
) -> None:
    tech, _client, ticket = world
    run = start(session, ticket, tech)
    record_answer(session, run, step="product", reply="Cisco Secure Client", actor=tech)
    step_back(session, ticket, actor=tech)
    notes = [e.note for e in history(session, ticket) if e.kind == "run-back"]
    assert notes == ["answer to 'product' taken back ('Cisco Secure Client')"]


def test_a_ticket_has_one_run_under_way_at_a_time(
    session: Session, world: tuple[Staff, Client, Ticket]
) -> None:
    tech, _client, ticket = world
    start(session, ticket, tech)
    with pytest.raises(InvalidInput, match=r"already has run .* under way at step 'product'"):
        start(session, ticket, tech)


def test_a_finished_run_may_be_followed_by_another(
    session: Session, world: tuple[Staff, Client, Ticket]
) -> None:
    tech, _client, ticket = world
    run = start(session, ticket, tech)
    record_answer(session, run, step="product", reply="Cisco Secure Client", actor=tech)
    record_answer(session, run, step="cisco", reply="No", actor=tech)
    assert start(session, ticket, tech).id != run.id


def test_an_emergency_ending_raises_the_ticket_to_critical(
    session: Session, world: tuple[Staff, Client, Ticket]
) -> None:
    tech, _client, ticket = world
    run = start(session, ticket, tech)
    record_answer(session, run, step="product", reply="FortiGate SSL-VPN", actor=tech)
    assert ticket.priority == "normal"
    state = record_answer(session, run, step="forti", reply="Files are being encrypted", actor=tech)
    assert (state.outcome, state.level, state.emergency) == ("escalate", "owner", True)
    assert ticket.priority == "critical"


def test_the_done_list_is_the_ending_reached(
    session: Session, world: tuple[Staff, Client, Ticket]
) -> None:
    tech, _client, ticket = world
    run = start(session, ticket, tech)
    # Under way: only the items every ending shares.
    assert lifecycle.done_list(session, ticket).items == ("Root cause recorded in the ticket",)
    record_answer(session, run, step="product", reply="Cisco Secure Client", actor=tech)
    record_answer(session, run, step="cisco", reply="Yes", actor=tech)
    assert lifecycle.done_list(session, ticket).items == (
        "Root cause recorded in the ticket",
        "Certificate expiry recorded",
    )
    assert runner_view(session, run)["done_when"] == [
        "Root cause recorded in the ticket",
        "Certificate expiry recorded",
    ]


def test_a_step_waiting_on_approval_says_what_blocks_it(
    session: Session, world: tuple[Staff, Client, Ticket]
) -> None:
    tech, _client, ticket = world
    lead = add_staff(session, name="Max", email="max@example.com", role="technician", level="L2")
    run = start(session, ticket, tech)
    record_answer(session, run, step="product", reply="FortiGate SSL-VPN", actor=tech)
    record_answer(session, run, step="forti", reply="No, the tunnel drops", actor=tech)
    (request,) = list_requests(session, ticket=ticket)
    blocked = runner_view(session, run)["next"]["blocked_by"]
    assert blocked["approval_id"] == request.id
    assert (blocked["level"], blocked["status"]) == ("L2", "pending")
    with pytest.raises(Refused, match="needs approval first"):
        record_answer(session, run, step="buy-licence", reply="Bought", actor=tech)
    decide(session, request, by=lead, approve=True, reason="within L2's licence budget")
    assert runner_view(session, run)["next"]["blocked_by"] is None
    assert record_answer(session, run, step="buy-licence", reply="1", actor=tech).outcome == (
        "resolved"
    )


def test_starting_a_run_takes_the_ticket(
    session: Session, world: tuple[Staff, Client, Ticket]
) -> None:
    tech, _client, ticket = world
    assert (ticket.assignee_id, ticket.status, ticket.runbook_key) == (None, "new", None)
    start(session, ticket, tech)
    assert (ticket.assignee_id, ticket.status, ticket.runbook_key) == (
        tech.id,
        "in_progress",
        "remote-access",
    )


def test_a_run_started_by_someone_else_keeps_the_assignee(
    session: Session, world: tuple[Staff, Client, Ticket]
) -> None:
    tech, _client, ticket = world
    other = add_staff(session, name="Ola", email="ola@example.com", role="technician", level="L1")
    ticket.assignee_id = other.id
    start(session, ticket, tech)
    assert ticket.assignee_id == other.id


def test_a_resolve_ending_makes_the_ticket_ready_to_resolve_until_stepped_back(
    session: Session, world: tuple[Staff, Client, Ticket]
) -> None:
    tech, _client, ticket = world
    run = start(session, ticket, tech)
    record_answer(session, run, step="product", reply="Cisco Secure Client", actor=tech)
    record_answer(session, run, step="cisco", reply="Yes", actor=tech)
    assert ticket.status == "ready_to_resolve"
    step_back(session, ticket, actor=tech)
    assert ticket.status == "in_progress"


def test_an_escalate_ending_does_not_pretend_the_ticket_is_ready(
    session: Session, world: tuple[Staff, Client, Ticket]
) -> None:
    tech, _client, ticket = world
    run = start(session, ticket, tech)
    record_answer(session, run, step="product", reply="Cisco Secure Client", actor=tech)
    record_answer(session, run, step="cisco", reply="No", actor=tech)
    assert ticket.status == "in_progress"
    assert ticket.custom_fields["escalation_allowed"] == "yes"
    assert "escalate:L2" in ticket.tags


def test_following_an_edge_case_escalation_passes_the_gate_and_is_recorded(
    session: Session, world: tuple[Staff, Client, Ticket]
) -> None:
    from franchise.escalation.service import escalate_ticket

    tech, _client, ticket = world
    run = start(session, ticket, tech)
    with pytest.raises(Refused, match="do step 'product' next"):
        escalate_ticket(session, ticket, to="L2", by=tech)
    # The edge case belongs to step 'forti', not to the step the run stands at.
    with pytest.raises(Refused, match="not for step 'product'"):
        escalate_ticket(session, ticket, to="L2", by=tech, edge_case=1)
    record_answer(session, run, step="product", reply="FortiGate SSL-VPN", actor=tech)
    view = runner_view(session, run)
    assert [c["number"] for c in view["next"]["edge_cases"]] == [1]
    with pytest.raises(Refused, match="does not escalate to owner"):
        escalate_ticket(session, ticket, to="owner", by=tech, edge_case=1)
    decision = escalate_ticket(session, ticket, to="L2", by=tech, edge_case=1)
    assert decision.rule == "runbook:remote-access/edge-case:1"
    assert (ticket.level, ticket.status) == ("L2", "escalated")
    notes = [e.note or "" for e in history(session, ticket) if e.field == "level"]
    assert "following edge case 1 of 'remote-access' (The firewall was upgraded" in notes[-1]


def test_switching_leaves_the_old_run_on_record_and_starts_the_new_one(
    session: Session, world: tuple[Staff, Client, Ticket]
) -> None:
    from franchise.flows.runs import switch_run

    tech, _client, ticket = world
    run = start(session, ticket, tech)
    with pytest.raises(InvalidInput, match="say why"):
        switch_run(session, ticket, runbooks.get_runbook(session, "mfa"), actor=tech, reason=" ")
    new = switch_run(
        session,
        ticket,
        runbooks.get_runbook(session, "mfa"),
        actor=tech,
        reason="edge case: the user never gets the MFA prompt",
    )
    assert (run.outcome, run.outcome_step) == ("switched", "product")
    assert runbooks.latest_run(session, ticket) is new
    assert ticket.runbook_key == runbooks.get_runbook(session, "mfa").key
    with pytest.raises(Conflict, match="left for another runbook"):
        record_answer(session, run, step="product", reply="1", actor=tech)
    (note,) = [e.note for e in history(session, ticket) if e.kind == "run-switched"]
    assert note == (
        "left 'remote-access' at 'product' for 'mfa-problem': "
        "edge case: the user never gets the MFA prompt"
    )


def test_an_ending_offers_what_comes_next(
    session: Session, world: tuple[Staff, Client, Ticket]
) -> None:
    tech, _client, ticket = world
    run = start(session, ticket, tech)
    assert runner_view(session, run)["offer"] is None
    record_answer(session, run, step="product", reply="Cisco Secure Client", actor=tech)
    record_answer(session, run, step="cisco", reply="No", actor=tech)
    assert runner_view(session, run)["offer"] == {
        "action": "escalate",
        "to": "L2",
        "emergency": False,
        "message_template": "escalated",
    }
    step_back(session, ticket, actor=tech)
    record_answer(session, run, step="cisco", reply="Yes", actor=tech)
    assert runner_view(session, run)["offer"] == {
        "action": "resolve",
        "done_when": ["Root cause recorded in the ticket", "Certificate expiry recorded"],
    }
