"""Approval requests keep how often their cost is paid, and the kind that applied."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.approvals import service
from franchise.approvals.present import approval_dict
from franchise.bootstrap import initialise
from franchise.errors import PermissionDenied
from franchise.runbooks import service as runbooks
from franchise.runbooks.definition import Estimate
from franchise.tickets.models import Ticket
from franchise.tickets.service import history
from tests.approvals.conftest import NOW


@dataclass(frozen=True)
class MonthlyEstimate(Estimate):
    """A runbook estimate that says how often it is paid (runbook format v2)."""

    recurring: str = "month"


def test_a_monthly_licence_is_stored_with_its_period_and_shown_on_the_ticket(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    request = service.request_approval(
        session,
        ticket=ticket,
        action="Buy a Business Premium licence for the new starter",
        cost=40,
        minutes=10,
        impact="none",
        recurring="month",
        requester=team["l1"],
        now=NOW,
    )
    session.refresh(request)
    assert (request.status, request.approver_level) == ("pending", "L2")
    assert (request.recurring, request.action_kind) == ("month", "licence-purchase")
    data = approval_dict(session, request)
    assert (data["cost"], data["recurring"], data["kind"]) == ("40.00", "month", "licence-purchase")
    # Waiting: the note rides on the ticket's status change.
    notes = [e.note or "" for e in history(session, ticket) if e.field == "status"]
    assert len(notes) == 1
    assert notes[0].startswith(
        f"approval #{request.id} waiting on L2: Buy a Business Premium licence for the new "
        "starter (cost 40/month (480 a year); kind licence-purchase implied by 'licence'"
    )


def test_a_request_defaults_to_paid_once(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    request = service.request_approval(
        session, ticket=ticket, action="Buy a cable", cost=40, minutes=5, impact="none",
        requester=team["l1"], now=NOW,
    )  # fmt: skip
    session.refresh(request)
    assert (request.recurring, request.status) == ("once", "approved")


def test_the_decider_is_checked_against_the_implied_kind(
    session: Session, team: dict[str, Staff], ticket: Ticket, make_staff: object
) -> None:
    # No kind given; "firewall" implies firewall-change, which L1 may not do. The stored
    # kind makes an L1 decider fail the same rule the asker did.
    request = service.request_approval(
        session, ticket=ticket, action="Add a firewall rule for the new VoIP provider",
        cost=0, minutes=20, impact="low", requester=team["l1"], now=NOW,
    )  # fmt: skip
    assert (request.status, request.approver_level, request.action_kind) == (
        "pending",
        "L2",
        "firewall-change",
    )
    with pytest.raises(PermissionDenied, match="waits on L2"):
        service.decide(session, request, by=team["l1b"], approve=True, reason="looks fine")
    service.decide(session, request, by=team["l2"], approve=True, reason="provider's ranges")
    assert request.status == "approved"


def test_a_runbook_step_with_a_monthly_estimate_is_compared_over_a_year(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    initialise(session)
    row = runbooks.get_runbook(session, "vpn-auth-failure")
    step = runbooks.definition(session, row).step("renew-certificate")
    # 30 a month = 360 a year: inside L1's general 100 only if paid once.
    monthly = replace(
        step,
        id="vpn-seat",
        text="Add one VPN user seat.",
        estimate=MonthlyEstimate(10, 30, "low", None),
    )
    run = runbooks.start_run(session, row, ticket=ticket, actor=team["l1"])
    request = service.request_for_action_step(session, run=run, step=monthly, actor=None, now=NOW)
    assert request is not None
    assert (request.recurring, request.status, request.approver_level) == (
        "month",
        "pending",
        "L2",
    )
    assert (
        request.reason
        == "cost 30/month (360 a year) exceeds L1 limit 100; L2 decides (within its boundary)"
    )
    # Today's estimates, without `recurring`, are paid once.
    once = replace(monthly, id="vpn-seat-once", estimate=Estimate(10, 30, "low", None))
    paid_once = service.request_for_action_step(session, run=run, step=once, actor=None, now=NOW)
    assert paid_once is not None
    assert (paid_once.recurring, paid_once.status) == ("once", "approved")
