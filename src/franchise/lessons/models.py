"""Lessons ("what we learned") captured on tickets and folded into runbook revisions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from franchise.db import Base, utcnow

STATES = ("pending", "applied", "rejected")


class Lesson(Base):
    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    runbook_id: Mapped[int | None] = mapped_column(ForeignKey("runbooks.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("runbook_revisions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]
