"""Approval requests for actions with a cost, a time or an impact."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from franchise.db import Base, utcnow

IMPACTS = ("none", "low", "medium", "high")
DECISIONS = ("approved", "pending", "denied")


class ApprovalRequest(Base):
    __tablename__ = "approval_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runbook_runs.id"))
    step_id: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(Text)
    action_kind: Mapped[str | None] = mapped_column(String(64))
    cost: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    # once | month | year: limits compare the cost over a year (policy.Ask.yearly_cost).
    recurring: Mapped[str] = mapped_column(String(8), default="once", server_default="once")
    minutes: Mapped[int] = mapped_column(default=0)
    impact: Mapped[str] = mapped_column(String(16), default="none")
    requester_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    approver_level: Mapped[str | None] = mapped_column(String(32))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_by_policy: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    # The decider's own words (or the timeout's line), apart from `reason`, which keeps the
    # whole story: why it needed approval, each escalation, the decision.
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    timeout_at: Mapped[datetime | None]
