"""The approvals inbox: pending requests a person may decide, and how many wait for them."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.approvals.boundaries import LEVELS, level_rank
from franchise.approvals.models import ApprovalRequest
from franchise.approvals.service import may_decide


def levels_up_to(level: str) -> tuple[str, ...]:
    return tuple(lv for lv in LEVELS if level_rank(lv) <= level_rank(level))


def waiting_count(session: Session, staff_id: int, level: str, is_manager: bool) -> int:
    """Pending requests at or below the person's level that they did not ask for (a quick
    count for the navigation; the inbox checks each one against their boundary)."""
    query = (
        select(func.count())
        .select_from(ApprovalRequest)
        .where(ApprovalRequest.status == "pending", ApprovalRequest.requester_id != staff_id)
    )
    if not is_manager:
        query = query.where(ApprovalRequest.approver_level.in_(levels_up_to(level)))
    return int(session.scalar(query) or 0)


def decidable(session: Session, staff: Staff) -> list[ApprovalRequest]:
    """Pending requests this person may approve, oldest first (the timeout runs on them)."""
    query = (
        select(ApprovalRequest)
        .where(ApprovalRequest.status == "pending", ApprovalRequest.requester_id != staff.id)
        .order_by(ApprovalRequest.created_at, ApprovalRequest.id)
    )
    if not staff.is_manager:
        query = query.where(ApprovalRequest.approver_level.in_(levels_up_to(staff.level)))
    return [r for r in session.scalars(query) if may_decide(session, r, staff)]


def mine(session: Session, staff: Staff, limit: int = 50) -> list[ApprovalRequest]:
    """The person's own requests, newest first."""
    return list(
        session.scalars(
            select(ApprovalRequest)
            .where(ApprovalRequest.requester_id == staff.id)
            .order_by(ApprovalRequest.id.desc())
            .limit(limit)
        )
    )


def tickets_waiting() -> Select[int | None]:
    """The ids of tickets a pending request waits on (the queue's "approval" view)."""
    return select(ApprovalRequest.ticket_id).where(ApprovalRequest.status == "pending")
