"""An approval is decided or times out: the run waiting on it follows its denied route.

A denied (or timed-out) action step with `on_denied` moves the run there at once; without
one the run stays at the step and the ticket may escalate to the approver's level (the
escalation map's evaluation says so), so a refusal never leaves the technician stuck.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.approvals import notices
from franchise.approvals import service as approvals
from franchise.approvals.models import ApprovalRequest
from franchise.escalation.service import refresh_escalation
from franchise.psa.connectors import outbound as psa_push
from franchise.runbooks import engine
from franchise.runbooks import service as runbooks
from franchise.runbooks.models import RunbookRun
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note


def decide_request(
    session: Session,
    request: ApprovalRequest,
    *,
    by: Staff,
    approve: bool,
    reason: str,
    now: datetime | None = None,
) -> ApprovalRequest:
    approvals.decide(session, request, by=by, approve=approve, reason=reason, now=now)
    _tell_psa(session, request, by)
    _after(session, request, by)
    notices.approval_decided(session, request, by)
    return request


def expire_requests(session: Session, now: datetime | None = None) -> list[approvals.Expiry]:
    expired = approvals.expire_pending(session, now)
    for item in expired:
        _after(session, item.request, None)
        if item.outcome == "escalated":
            notices.approval_pending(session, item.request)
        else:
            _tell_psa(session, item.request, None)
            notices.approval_decided(session, item.request, None)
    return expired


def _tell_psa(session: Session, request: ApprovalRequest, by: Staff | None) -> None:
    """A private note on the PSA ticket with the decision and its reason."""
    ticket = session.get(Ticket, request.ticket_id) if request.ticket_id is not None else None
    if ticket is None:
        return
    who = by.name if by is not None else "policy"
    text = f"Approval {request.status} by {who}: {request.action}"
    psa_push.note(session, ticket, text + (f"\nReason: {request.reason}" if request.reason else ""))


def _after(session: Session, request: ApprovalRequest, actor: Staff | None) -> None:
    if request.status == "denied":
        _follow_denial(session, request, actor)
    if request.ticket_id is not None:
        ticket = session.get(Ticket, request.ticket_id)
        if ticket is not None:
            refresh_escalation(session, ticket, actor=actor)


def _follow_denial(session: Session, request: ApprovalRequest, actor: Staff | None) -> None:
    if request.run_id is None or request.step_id is None:
        return
    run = session.get(RunbookRun, request.run_id)
    if run is None or run.outcome is not None or run.current_step != request.step_id:
        return
    state = runbooks.run_state(session, run)
    if not state.step.on_denied:
        return
    runbooks.answer_run(
        session,
        run,
        step=request.step_id,
        reply=engine.DENIED,
        note=f"approval #{request.id} denied: the runbook's denied route",
        actor=actor,
    )
    ticket = session.get(Ticket, run.ticket_id) if run.ticket_id is not None else None
    if ticket is not None:
        add_note(
            session,
            ticket,
            actor=actor,
            kind="run-denied",
            note=f"approval #{request.id} denied: the run moves to '{state.step.on_denied}'",
        )
