"""A decided approval comes back to the run: a denial follows the step's denied route, and a
step waiting on (or refused by) an approver lets the ticket escalate to that approver."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.service import add_staff
from franchise.approvals.service import list_requests
from franchise.bootstrap import initialise
from franchise.errors import Refused
from franchise.escalation.service import check_escalation
from franchise.flows.approvals import decide_request, expire_requests
from franchise.flows.runs import begin_run, record_answer
from franchise.runbooks import service as runbooks
from franchise.tickets.service import create_ticket, history

SOURCE = """\
format: 2
key: licence-top-up
title: Licence top-up
category: onboarding
status: validated
fallback: {to: L2, text: Attach the licence report.}
start: buy
steps:
  buy:
    kind: action
    text: Buy five Business Premium seats.
    estimate: {minutes: 10, cost: 1100, impact: none, kind: licence-purchase}
    {denied}options: {"Bought": done, "Client withdrew the request": ask-client}
  done: {kind: resolve, text: Seats assigned., done_when: [Seats assigned]}
  ask-client: {kind: escalate, to: L2, text: Ask the client to approve the spend.}
"""


def setup(session: Session, denied_route: bool):  # type: ignore[no-untyped-def]
    initialise(session)
    source = SOURCE.replace("{denied}", "on_denied: ask-client\n    " if denied_route else "")
    runbooks.save_runbook(session, source, file="licence.yaml")
    tech = add_staff(session, name="Lia", email="lia@example.com", role="technician", level="L1")
    lead = add_staff(session, name="Max", email="max@example.com", role="technician", level="L2")
    owner = add_staff(session, name="Olu", email="olu@example.com", role="owner", level="owner")
    ticket = create_ticket(session, title="Five seats for the new team", category="onboarding")
    run = begin_run(
        session, runbooks.get_runbook(session, "licence-top-up"), ticket=ticket, actor=tech
    )
    (request,) = list_requests(session, ticket=ticket)
    return tech, lead, owner, ticket, run, request


def test_a_pending_approval_allows_escalating_to_its_approver(session: Session) -> None:
    _tech, _lead, _owner, ticket, _run, request = setup(session, denied_route=False)
    # 1,100 is above L2's 1,000 (and L2's licence limit), so the owner decides it.
    assert (request.status, request.approver_level) == ("pending", "owner")
    decision = check_escalation(session, ticket)
    assert (decision.allowed, decision.to) == (True, "owner")
    assert decision.rule == "runbook:licence-top-up/buy:approval"
    assert decision.pending_step == "buy"


def test_a_denial_follows_the_steps_denied_route(session: Session) -> None:
    _tech, _lead, owner, ticket, run, request = setup(session, denied_route=True)
    decide_request(session, request, by=owner, approve=False, reason="not this quarter")
    state = runbooks.run_state(session, run)
    assert (state.current, state.outcome, state.level) == ("ask-client", "escalate", "L2")
    assert any(e.kind == "run-denied" for e in history(session, ticket))
    decision = check_escalation(session, ticket)
    assert (decision.allowed, decision.to) == (True, "L2")


def test_a_denial_without_a_route_leaves_the_run_and_allows_escalation(session: Session) -> None:
    _tech, _lead, owner, ticket, run, request = setup(session, denied_route=False)
    decide_request(session, request, by=owner, approve=False, reason="too much")
    assert runbooks.run_state(session, run).current == "buy"
    decision = check_escalation(session, ticket)
    assert (decision.allowed, decision.to) == (True, "owner")
    assert "was denied by owner" in decision.reason


def test_an_approval_lets_the_run_go_on_and_closes_the_escalation_gap(session: Session) -> None:
    tech, _lead, owner, ticket, run, request = setup(session, denied_route=True)
    decide_request(session, request, by=owner, approve=True, reason="budgeted")
    assert record_answer(session, run, step="buy", reply="Bought", actor=tech).outcome == "resolved"
    assert check_escalation(session, ticket).allowed is False


def test_a_timeout_that_denies_follows_the_denied_route(session: Session) -> None:
    _tech, _lead, _owner, _ticket, run, request = setup(session, denied_route=True)
    # At the owner a timeout always denies: nobody is above to escalate to.
    assert request.timeout_at is not None
    expired = expire_requests(session, now=request.timeout_at + timedelta(seconds=1))
    assert [e.outcome for e in expired] == ["denied"]
    assert runbooks.run_state(session, run).current == "ask-client"


def test_an_approval_asked_on_a_ticket_belongs_to_the_runs_action_step(session: Session) -> None:
    from franchise.approvals.service import request_approval

    tech, _lead, owner, ticket, run, first = setup(session, denied_route=False)
    decide_request(session, first, by=owner, approve=False, reason="ask with a quote")
    again = request_approval(
        session,
        ticket=ticket,
        action="Five Business Premium seats, quote attached",
        cost=1100,
        minutes=10,
        impact="none",
        kind="licence-purchase",
        requester=tech,
    )
    assert (again.run_id, again.step_id, again.status) == (run.id, "buy", "pending")
    with pytest.raises(Refused, match=f"request #{again.id} waits for owner"):
        record_answer(session, run, step="buy", reply="Bought", actor=tech)
