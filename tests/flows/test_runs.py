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
