"""Owner-offline drills and the review items that close them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from franchise.db import Base, utcnow

DISPOSITIONS = ("improve_runbook", "tighten_rule")
# Contacts a drill review lists: those that reached the owner or tried to. Deflections are
# left out: the system answered them, which is what a drill wants to see.
REVIEWED_OUTCOMES = ("interruption", "refused")


class Drill(Base):
    __tablename__ = "drills"

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    emergency_criteria: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewItem(Base):
    """A contact that reached (or tried to reach) the owner, to be closed with a disposition.

    Drill reviews have a drill; weekly reviews of interruptions outside drills have none.
    """

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int | None] = mapped_column(ForeignKey("drills.id"), index=True)
    week_start: Mapped[str | None] = mapped_column(String(10))
    contact_id: Mapped[int] = mapped_column(ForeignKey("owner_contacts.id"), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    disposition: Mapped[str | None] = mapped_column(String(32))
    runbook_revision_id: Mapped[int | None] = mapped_column(ForeignKey("runbook_revisions.id"))
    policy_revision_id: Mapped[int | None] = mapped_column(ForeignKey("policy_revisions.id"))
    note: Mapped[str | None] = mapped_column(Text)
    disposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    disposed_at: Mapped[datetime | None]
