"""An ask for approval of a recurring cost is routed on its cost over a year."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from franchise.approvals.models import ApprovalRequest
from franchise.ask.service import ActionEstimate, ask_owner
from franchise.settings import Settings
from franchise.tickets.models import Ticket
from tests.ask.fixtures import Team
from tests.notify.receiver import Receiver

TUESDAY = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def test_a_monthly_cost_the_l1_limit_covers_once_goes_to_l2(
    session: Session,
    team: Team,
    make_ticket: Callable[..., Ticket],
    settings: Settings,
    owner_inbox: Receiver,
) -> None:
    # 60 a month = 720 a year: over L1's 100, inside L2's 1000. Paid once, 60 is L1's own.
    result = ask_owner(
        session,
        ticket=make_ticket(),
        by=team.ana,
        reason="approval",
        question="Offsite backup storage, 60 a month?",
        now=TUESDAY,
        settings=settings,
        estimate=ActionEstimate(cost="60", impact="low", recurring="month"),
    )
    assert (result.outcome, result.answer.kind) == ("deflection", "approval_routed")
    assert "cost 60/month (720 a year) exceeds L1 limit 100" in result.answer.text
    request = session.get(ApprovalRequest, result.approval_id)
    assert request is not None
    assert (request.approver_level, request.recurring) == ("L2", "month")
