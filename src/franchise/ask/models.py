"""The owner's replies to asks that reached them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from franchise.db import Base, utcnow


class AskReply(Base):
    """One reply per ask (an owner contact with a question), recorded on the ticket too."""

    __tablename__ = "ask_replies"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("owner_contacts.id", ondelete="CASCADE"), primary_key=True
    )
    text: Mapped[str] = mapped_column(Text)
    replied_at: Mapped[datetime] = mapped_column(default=utcnow)
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
