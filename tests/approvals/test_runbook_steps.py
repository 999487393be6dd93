"""Runbook action steps ask for approval from their estimate (the VPN acceptance facts)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.approvals import service
from franchise.bootstrap import initialise
from franchise.runbooks import service as runbooks
from franchise.runbooks.definition import Estimate
from franchise.tickets.models import Ticket
from franchise.tickets.service import history
from tests.approvals.conftest import NOW


def test_vpn_certificate_renewal_is_approved_by_policy_for_an_l1_runner(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    initialise(session)
    row = runbooks.get_runbook(session, "vpn-auth-failure")
    step = runbooks.definition(session, row).step("renew-certificate")
    run = runbooks.start_run(session, row, ticket=ticket, actor=team["l1"])

    request = service.request_for_action_step(
        session, run=run, step=step, actor=team["l1"], now=NOW
    )

    assert request is not None
    assert (request.status, request.decided_by_policy, request.approver_level) == (
        "approved",
        True,
        "L1",
    )
    assert (request.run_id, request.step_id, request.ticket_id) == (run.id, step.id, ticket.id)
    assert (request.cost, request.minutes, request.impact) == (Decimal(0), 20, "low")
    assert request.action.startswith(
        "vpn-auth-failure step renew-certificate: First open the device's certificate store"
    )
    assert ticket.status == "new"
    assert any(e.kind == "approval" for e in history(session, ticket))
    # Reaching the step again (after a step back) does not ask twice.
    again = service.request_for_action_step(session, run=run, step=step, actor=team["l1"], now=NOW)
    assert again is not None
    assert again.id == request.id


def test_laptop_reimage_with_high_impact_waits_for_l2(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    initialise(session)
    row = runbooks.get_runbook(session, "vpn-auth-failure")
    step = runbooks.definition(session, row).step("renew-certificate")
    reimage = replace(
        step, id="reimage-laptop", text="Reimage the laptop.", estimate=Estimate(120, 0, "high")
    )
    run = runbooks.start_run(session, row, ticket=ticket, actor=team["l1"])

    request = service.request_for_action_step(
        session, run=run, step=reimage, actor=team["l1"], now=NOW
    )

    assert request is not None
    assert (request.status, request.approver_level) == ("pending", "L2")
    assert ticket.status == "waiting_on_approval"


def test_steps_without_an_estimate_or_runner_ask_nothing(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    initialise(session)
    row = runbooks.get_runbook(session, "vpn-auth-failure")
    parsed = runbooks.definition(session, row)
    run = runbooks.start_run(session, row, ticket=ticket)
    assert (
        service.request_for_action_step(
            session, run=run, step=parsed.step("scope"), actor=team["l1"]
        )
        is None
    )
    assert (
        service.request_for_action_step(
            session, run=run, step=parsed.step("renew-certificate"), actor=None
        )
        is None
    )
    # Without an explicit actor, whoever started the run asks.
    started = runbooks.start_run(session, row, ticket=ticket, actor=team["l2"])
    request = service.request_for_action_step(
        session, run=started, step=parsed.step("renew-certificate"), actor=None
    )
    assert request is not None
    assert request.requester_id == team["l2"].id


def test_the_latest_approval_for_a_step_is_the_newest_of_that_run_and_step_only(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    initialise(session)
    row = runbooks.get_runbook(session, "vpn-auth-failure")
    run = runbooks.start_run(session, row, ticket=ticket, actor=team["l1"])
    assert service.latest_step_approval(session, run.id, "renew-certificate") is None

    def ask(step: str, action: str) -> int:
        return service.request_approval(
            session,
            ticket=ticket,
            action=action,
            cost=0,
            minutes=5,
            impact="low",
            requester=team["l1"],
            run_id=run.id,
            step_id=step,
            now=NOW,
        ).id

    first = ask("renew-certificate", "renew it")
    second = ask("renew-certificate", "renew it again")
    ask("other-step", "something else")
    latest = service.latest_step_approval(session, run.id, "renew-certificate")
    assert latest is not None and latest.id == second != first
    assert service.latest_step_approval(session, run.id + 1, "renew-certificate") is None
