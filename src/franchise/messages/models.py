"""Client messages rendered from templates and recorded on the ticket."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from franchise.db import Base, utcnow

STAGES = ("acknowledged", "update", "waiting-on-client", "escalated", "resolved", "outage")


class TicketMessage(Base):
    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    template_key: Mapped[str | None] = mapped_column(String(100))
    stage: Mapped[str | None] = mapped_column(String(32))
    to_address: Mapped[str] = mapped_column(String(320))
    cc_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    # The technician changed the rendered text before sending; `body` is what was sent.
    edited: Mapped[bool] = mapped_column(default=False, server_default=false())
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    status: Mapped[str] = mapped_column(String(16), default="sent")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
