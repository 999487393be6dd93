"""The approval requests' numbers for /metrics: how many wait, on whom, and for how long."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.approvals.models import ApprovalRequest
from franchise.ops.metrics import Sample


def approval_gauges(session: Session, now: datetime) -> list[Sample]:
    pending = ApprovalRequest.status == "pending"
    rows = session.execute(
        select(ApprovalRequest.approver_level, func.count())
        .where(pending)
        .group_by(ApprovalRequest.approver_level)
    )
    by_level = {str(level or "none"): int(count) for level, count in rows}
    oldest = session.scalar(select(func.min(ApprovalRequest.created_at)).where(pending))
    oldest_owner = session.scalar(
        select(func.min(ApprovalRequest.created_at)).where(
            pending, ApprovalRequest.approver_level == "owner"
        )
    )
    return [
        Sample(
            "franchise_approvals_pending",
            "gauge",
            "Approval requests waiting for a decision, by who must approve.",
            [({"approver_level": lv}, n) for lv, n in sorted(by_level.items())],
        ),
        Sample(
            "franchise_approvals_pending_oldest_seconds",
            "gauge",
            "Age of the oldest approval request waiting; 0 when none waits.",
            [({}, _age(now, oldest))],
        ),
        Sample(
            "franchise_owner_approvals_oldest_seconds",
            "gauge",
            "Age of the oldest approval waiting on the owner; 0 when none waits.",
            [({}, _age(now, oldest_owner))],
        ),
    ]


def _age(now: datetime, since: datetime | None) -> float:
    return round(max(0.0, (now - since).total_seconds()), 3) if since is not None else 0.0
