"""Client facts in a run: answered from the profile, saved from an answer, changed by
stepping back to them (DB tests)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.clients.facts import facts_of, set_fact
from franchise.clients.models import Client
from franchise.clients.service import add_client
from franchise.errors import InvalidInput
from franchise.flows import runs
from franchise.runbooks import service as runbooks
from franchise.runbooks.models import RunbookRun
from franchise.tickets.models import Ticket
from franchise.tickets.service import create_ticket, history

VPN_FACT = """\
format: 2
key: vpn-fact
title: VPN with a client fact
category: vpn
status: validated
maintainer: L2
description: Which VPN, then the certificate.
fallback: {to: L2, text: Attach the error.}
start: vpn-type
steps:
  vpn-type:
    kind: check
    fact: vpn
    text: Which VPN does the client use?
    options: {"FortiGate": cert, "SonicWall": cert, "Other or not sure": unsure}
  cert:
    kind: check
    text: Is the certificate valid?
    options: {"Valid": fixed, "Expired": fixed}
  fixed: {kind: resolve, text: Connected.}
  unsure: {kind: escalate, to: L2, text: Ask L2.}
"""


@pytest.fixture
def tech(session: Session) -> Staff:
    return add_staff(session, name="Tess", email="tess@example.com", role="technician", level="L1")


@pytest.fixture
def client(session: Session) -> Client:
    runbooks.save_runbook(session, VPN_FACT)
    return add_client(session, name="Acme Dental", tier="standard", endpoints=10)


def _run(session: Session, client: Client, tech: Staff) -> tuple[Ticket, RunbookRun]:
    ticket = create_ticket(session, title="VPN down", client=client.id, category="vpn")
    row = runbooks.get_runbook(session, "vpn-fact")
    return ticket, runs.begin_run(session, row, ticket=ticket, actor=tech)


def _notes(session: Session, ticket: Ticket, kind: str) -> list[str]:
    return [e.note or "" for e in history(session, ticket) if e.kind == kind]


def test_a_known_fact_answers_its_check_and_the_path_says_so(
    session: Session, client: Client, tech: Staff
) -> None:
    set_fact(session, client, "vpn", "fortigate", by=tech)  # any case matches the label
    _, run = _run(session, client, tech)
    view = runs.runner_view(session, run)
    assert view["next"]["step"] == "cert"
    assert view["path"] == [{"step": "vpn-type", "answer": "FortiGate"}]
    [first] = runbooks.run_steps(session, run)
    assert first.note == "answered from the client profile (vpn = fortigate)"
    assert first.note.startswith(runs.PROFILE_NOTE)


def test_a_way_out_in_the_profile_answers_nothing(
    session: Session, client: Client, tech: Staff
) -> None:
    set_fact(session, client, "vpn", "Other or not sure", by=tech)
    _, run = _run(session, client, tech)
    nxt = runs.runner_view(session, run)["next"]
    assert nxt["step"] == "vpn-type"
    assert nxt["fact"] == {
        "key": "vpn",
        "value": "Other or not sure",
        "answer": None,
        "can_save": True,
    }


def test_an_answer_is_saved_to_the_profile_when_asked(
    session: Session, client: Client, tech: Staff
) -> None:
    ticket, run = _run(session, client, tech)
    runs.record_answer(session, run, step="vpn-type", reply="2", actor=tech, save_fact=True)
    assert facts_of(session, client.id) == {"vpn": "SonicWall"}
    assert _notes(session, ticket, "fact-saved") == ["client profile: vpn = SonicWall"]


def test_an_answer_is_not_saved_unless_asked(session: Session, client: Client, tech: Staff) -> None:
    _, run = _run(session, client, tech)
    runs.record_answer(session, run, step="vpn-type", reply="SonicWall", actor=tech)
    assert facts_of(session, client.id) == {}


def test_a_way_out_answer_is_never_saved_as_a_fact(
    session: Session, client: Client, tech: Staff
) -> None:
    ticket, run = _run(session, client, tech)
    state = runs.record_answer(
        session, run, step="vpn-type", reply="Other or not sure", actor=tech, save_fact=True
    )
    assert state.current == "unsure"  # the answer itself is taken
    assert facts_of(session, client.id) == {}
    assert _notes(session, ticket, "fact-not-saved") == [
        "client profile: vpn not saved ('Other or not sure' is no fact about the client)"
    ]


def test_stepping_back_to_a_profile_answer_takes_back_every_later_answer(
    session: Session, client: Client, tech: Staff
) -> None:
    set_fact(session, client, "vpn", "FortiGate", by=tech)
    ticket, run = _run(session, client, tech)
    runs.record_answer(session, run, step="cert", reply="Valid", actor=tech)
    assert runbooks.run_state(session, run).current == "fixed"

    state = runs.step_back_to(session, ticket, "vpn-type", actor=tech)
    assert state.current == "vpn-type"
    assert state.path == ()
    assert _notes(session, ticket, "run-back") == [
        "answer to 'cert' taken back ('Valid')",
        "answer to 'vpn-type' taken back ('FortiGate')",
    ]
    # Back at the fact's step, the profile's answer is offered, not given again.
    assert runs.runner_view(session, run)["next"]["fact"]["answer"] == "FortiGate"
    runs.record_answer(session, run, step="vpn-type", reply="SonicWall", actor=tech)
    assert runbooks.run_state(session, run).current == "cert"


def test_stepping_back_to_a_step_never_answered_is_refused(
    session: Session, client: Client, tech: Staff
) -> None:
    ticket, run = _run(session, client, tech)
    with pytest.raises(InvalidInput, match="step 'cert' has no answer in this run to change"):
        runs.step_back_to(session, ticket, "cert", actor=tech)
    assert runbooks.run_state(session, run).current == "vpn-type"
