"""Owner contacts: every time someone reached (or tried to reach) the owner about work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from franchise.db import Base, utcnow

CHANNELS = ("call", "text", "chat", "email", "in_person", "emergency_escalation", "in_app")
REASONS = ("approval", "escalation", "customer_communication", "technical_decision", "other")
OUTCOMES = ("interruption", "deflection", "refused")


class OwnerContact(Base):
    __tablename__ = "owner_contacts"
    __table_args__ = (
        Index("ix_owner_contacts_outcome_occurred", "outcome", "occurred_at"),
        # Drill counts and reviews group one drill's contacts by outcome: with drill_id alone
        # the planner scans every contact, since most have none.
        Index("ix_owner_contacts_drill_outcome", "drill_id", "outcome", "emergency"),
        # Every column the KPI reads of a week's contacts: its query reads no table rows.
        Index(
            "ix_owner_contacts_kpi",
            "occurred_at",
            "outcome",
            "channel",
            "reason",
            "minutes",
            "after_hours",
            "staff_id",
            "ticket_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column()
    channel: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    emergency: Mapped[bool] = mapped_column(default=False)
    minutes: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str] = mapped_column(String(16))
    after_hours: Mapped[bool] = mapped_column(default=False)
    drill_id: Mapped[int | None] = mapped_column(ForeignKey("drills.id"))
    question: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    # Who logged the contact (the API caller), whoever it names as having contacted the owner.
    # A plain id: SQLite cannot add a foreign key to this table without rebuilding it, which
    # the tables referring to it forbid inside a migration's transaction.
    recorded_by_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
