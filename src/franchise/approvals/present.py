"""Approval request output shared by the CLI and the API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.approvals.models import ApprovalRequest


def decided_by(request: ApprovalRequest, emails: dict[int, str]) -> str | None:
    """ "boundary" when policy approved it, "timeout" when the timeout denied it, otherwise
    the e-mail of whoever decided (None while pending)."""
    if request.decided_by_id is not None:
        return emails.get(request.decided_by_id)
    if request.decided_by_policy:
        return "boundary" if request.status == "approved" else "timeout"
    return None


def approval_dicts(session: Session, requests: Sequence[ApprovalRequest]) -> list[dict[str, Any]]:
    ids = {r.requester_id for r in requests} | {
        r.decided_by_id for r in requests if r.decided_by_id is not None
    }
    emails = (
        {s.id: s.email for s in session.scalars(select(Staff).where(Staff.id.in_(ids)))}
        if ids
        else {}
    )
    return [_one(r, emails) for r in requests]


def approval_dict(session: Session, request: ApprovalRequest) -> dict[str, Any]:
    return approval_dicts(session, [request])[0]


def _one(r: ApprovalRequest, emails: dict[int, str]) -> dict[str, Any]:
    return {
        "id": r.id,
        "ticket_id": r.ticket_id,
        "run_id": r.run_id,
        "step_id": r.step_id,
        "action": r.action,
        "kind": r.action_kind,
        "cost": f"{r.cost:.2f}",
        "recurring": r.recurring,
        "minutes": r.minutes,
        "impact": r.impact,
        "requester": emails.get(r.requester_id),
        "decision": r.status,
        "approver_level": r.approver_level,
        "decided_by": decided_by(r, emails),
        "reason": r.reason,
        # The decider's own words (or the timeout's line); null while pending, and for
        # requests decided before it was kept apart (their words end `reason`).
        "decision_note": r.decision_note,
        "created_at": r.created_at.isoformat(),
        "decided_at": r.decided_at.isoformat() if r.decided_at else None,
        "timeout_at": r.timeout_at.isoformat() if r.timeout_at else None,
    }
