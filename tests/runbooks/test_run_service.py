"""Runbook runs in the database: start, answer (and its conflicts), back, latest.

On a small VPN runbook of its own (the shipped one changes with its content): scope ->
"Several or all users" -> dc-reachable -> "Server offline, or the test fails or times out" ->
dc-trouble, an escalation to the owner.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.bootstrap import initialise
from franchise.errors import Conflict, InvalidInput
from franchise.runbooks import service as runbooks
from franchise.runbooks.models import Runbook, RunbookRun
from franchise.tickets.models import Ticket
from franchise.tickets.service import create_ticket

SEVERAL = "Several or all users"
OFFLINE = "Server offline, or the test fails or times out"


VPN = """\
format: 2
key: vpn-mini
title: VPN will not connect
category: vpn
status: validated
inputs: [{id: affected_user, label: Affected user, required: true}]
start: scope
steps:
  scope:
    kind: check
    text: Is only this user failing, or several users?
    options: {"Only this user": user-check, "Several or all users": dc-reachable, "Not sure": to-l2}
  user-check:
    kind: check
    text: Does the user's certificate show as valid?
    options: {"Valid": to-l2, "Expired or not sure": to-l2}
  dc-reachable:
    kind: check
    text: Does the domain controller answer the RADIUS test?
    options: {"Server offline, or the test fails or times out": dc-trouble, "Server online and the test succeeds": to-l2,
              "Other or not sure": to-l2}
  dc-trouble: {kind: escalate, to: owner, emergency: true, text: The domain controller is down.}
  to-l2: {kind: escalate, to: L2, text: L2 checks the VPN gateway.}
"""


@pytest.fixture
def vpn(session: Session) -> Runbook:
    initialise(session)
    return runbooks.save_runbook(session, VPN, file="vpn-mini.yaml").runbook


@pytest.fixture
def tina(session: Session) -> Staff:
    return add_staff(session, name="Tina", email="tina@msp.example", role="technician", level="L1")


@pytest.fixture
def ticket(session: Session) -> Ticket:
    return create_ticket(session, title="VPN will not connect", category="vpn")


def answers(session: Session, run: RunbookRun, *, retracted: bool = False) -> list[tuple]:
    steps = runbooks.run_steps(session, run, include_retracted=retracted)
    return [(s.seq, s.step_id, s.answer, s.retracted_at is not None) for s in steps]


def test_start_run_begins_at_the_start_step_of_the_current_revision(
    session: Session, vpn: Runbook, ticket: Ticket, tina: Staff
) -> None:
    run = runbooks.start_run(
        session, vpn, ticket=ticket, actor=tina, inputs={"affected_user": "ann@client.example"}
    )
    assert (run.current_step, run.revision_number) == ("scope", vpn.current_revision)
    assert (run.ticket_id, run.started_by_id, run.runbook_id) == (ticket.id, tina.id, vpn.id)
    assert run.inputs == {"affected_user": "ann@client.example"}
    assert (run.outcome, run.finished_at) == (None, None)
    assert answers(session, run) == []
    assert runbooks.run_state(session, run).current == "scope"


def test_start_run_names_missing_required_inputs_when_inputs_are_given(
    session: Session, vpn: Runbook
) -> None:
    with pytest.raises(InvalidInput, match=r"required input\(s\) missing: affected_user"):
        runbooks.start_run(session, vpn, inputs={"device": "LT-042"})
    # Without inputs at all (the API's quick start) the run starts; the form asks later.
    assert runbooks.start_run(session, vpn).inputs == {}


def test_answering_moves_the_run_and_records_who_answered(
    session: Session, vpn: Runbook, tina: Staff
) -> None:
    run = runbooks.start_run(session, vpn)
    state = runbooks.answer_run(
        session, run, step="scope", reply=SEVERAL, note="3 users", actor=tina
    )
    assert (state.current, state.finished) == ("dc-reachable", False)
    assert run.current_step == "dc-reachable"
    (step,) = runbooks.run_steps(session, run)
    assert (step.seq, step.step_id, step.answer, step.note, step.actor_id) == (
        1,
        "scope",
        SEVERAL,
        "3 users",
        tina.id,
    )


def test_an_answer_is_matched_to_its_option_without_regard_to_case(
    session: Session, vpn: Runbook
) -> None:
    run = runbooks.start_run(session, vpn)
    runbooks.answer_run(session, run, step="scope", reply="  several OR all users ")
    assert answers(session, run) == [(1, "scope", SEVERAL, False)]


def test_answering_a_step_the_run_has_left_is_a_conflict_and_records_nothing(
    session: Session, vpn: Runbook
) -> None:
    run = runbooks.start_run(session, vpn)
    runbooks.answer_run(session, run, step="scope", reply=SEVERAL)
    with pytest.raises(Conflict) as stale:
        runbooks.answer_run(session, run, step="scope", reply="Only this user")
    assert stale.value.message == (
        f"run {run.id} is at step 'dc-reachable', not 'scope' (someone answered it)"
    )
    assert answers(session, run) == [(1, "scope", SEVERAL, False)]
    assert run.current_step == "dc-reachable"


def test_reaching_an_ending_finishes_the_run_and_further_answers_conflict(
    session: Session, vpn: Runbook
) -> None:
    run = runbooks.start_run(session, vpn)
    runbooks.answer_run(session, run, step="scope", reply=SEVERAL)
    state = runbooks.answer_run(session, run, step="dc-reachable", reply=OFFLINE)
    assert (state.finished, state.outcome, state.level) == (True, "escalate", "owner")
    assert (run.current_step, run.outcome, run.outcome_level, run.outcome_step) == (
        "dc-trouble",
        "escalate",
        "owner",
        "dc-trouble",
    )
    assert run.finished_at is not None
    for step in ("dc-trouble", "scope"):
        with pytest.raises(Conflict) as ended:
            runbooks.answer_run(session, run, step=step, reply="anything")
        assert ended.value.message == f"run {run.id} already ended at 'dc-trouble' (escalate)"
    assert len(answers(session, run)) == 2


def test_back_retracts_the_last_answer_and_keeps_it_on_record(
    session: Session, vpn: Runbook
) -> None:
    run = runbooks.start_run(session, vpn)
    runbooks.answer_run(session, run, step="scope", reply=SEVERAL)
    runbooks.answer_run(session, run, step="dc-reachable", reply=OFFLINE)
    state = runbooks.back_run(session, run)
    assert (state.current, state.finished) == ("dc-reachable", False)
    # The ending is undone on the run row too, not only in the replayed state.
    assert (run.current_step, run.outcome, run.outcome_level, run.outcome_step) == (
        "dc-reachable",
        None,
        None,
        None,
    )
    assert run.finished_at is None
    assert answers(session, run) == [(1, "scope", SEVERAL, False)]
    assert answers(session, run, retracted=True) == [
        (1, "scope", SEVERAL, False),
        (2, "dc-reachable", OFFLINE, True),
    ]
    # Answering again goes on after the retracted answer, which stays where it was.
    runbooks.answer_run(
        session, run, step="dc-reachable", reply="Server online and the test succeeds"
    )
    assert [a[:3] for a in answers(session, run, retracted=True)] == [
        (1, "scope", SEVERAL),
        (2, "dc-reachable", OFFLINE),
        (3, "dc-reachable", "Server online and the test succeeds"),
    ]
    assert run.current_step == "to-l2"


def test_back_at_the_first_step_is_refused(session: Session, vpn: Runbook) -> None:
    run = runbooks.start_run(session, vpn)
    with pytest.raises(InvalidInput, match="nothing to go back to"):
        runbooks.back_run(session, run)
    runbooks.answer_run(session, run, step="scope", reply=SEVERAL)
    assert runbooks.back_run(session, run).current == "scope"
    with pytest.raises(InvalidInput, match="nothing to go back to"):
        runbooks.back_run(session, run)
    assert run.current_step == "scope"


def test_latest_run_is_the_newest_run_of_that_ticket(
    session: Session, vpn: Runbook, ticket: Ticket
) -> None:
    assert runbooks.latest_run(session, ticket) is None
    first = runbooks.start_run(session, vpn, ticket=ticket)
    assert runbooks.latest_run(session, ticket) is first
    second = runbooks.start_run(session, vpn, ticket=ticket)
    other = create_ticket(session, title="Another VPN ticket", category="vpn")
    runbooks.start_run(session, vpn, ticket=other)
    runbooks.start_run(session, vpn)
    assert runbooks.latest_run(session, ticket) is second


def test_a_stored_revision_that_no_longer_passes_is_refused_by_name(
    session: Session, vpn: Runbook
) -> None:
    # Runbooks read stored revisions through the one policy-document cache: a revision a
    # stricter release refuses is InvalidInput naming it, never an assert (gone under -O).
    rev = runbooks.revision(session, vpn)
    assert runbooks.definition(session, vpn).key == "vpn-mini"
    rev.source = VPN.replace("start: scope", "start: nowhere")
    session.flush()
    with pytest.raises(InvalidInput, match=rf"stored runbook \(revision {rev.number}\)"):
        runbooks.definition(session, vpn)
    with pytest.raises(InvalidInput, match="no longer passes"):
        runbooks.all_definitions(session)
