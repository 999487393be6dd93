"""A staff member's chat channels, and the signed action links sent to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from franchise.db import Base, utcnow

KINDS = ("teams", "slack")


class StaffChannel(Base):
    """A Teams Workflows or Slack incoming webhook of one person; the URL is sealed (it is
    the credential: whoever has it may post into that chat)."""

    __tablename__ = "staff_channels"
    __table_args__ = (UniqueConstraint("staff_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    url_sealed: Mapped[str] = mapped_column(Text)
    # Slack's member id (U0123...): a button pressed in Slack is applied only for this person.
    slack_user_id: Mapped[str | None] = mapped_column(String(32), index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActionLink(Base):
    """One signed link (Approve, Deny, Answer, Open) for one person and one target; used once."""

    __tablename__ = "action_links"
    __table_args__ = (Index("ix_action_links_target", "target_kind", "target_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class StaffNotice(Base):
    """One notification as the person sees it in the app (My notifications and the count on
    its link): written with every notification, whatever channels the person has, so a
    technician with no e-mail or chat channel still hears of a hand-off."""

    __tablename__ = "staff_notices"
    __table_args__ = (Index("ix_staff_notices_unread", "staff_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    # "Name: value" lines (the ticket, the cost, who asked ...), as the notice's facts.
    facts: Mapped[list[str]]
    # Where in the app to act on it: a page path, with a fragment for the item on it.
    link: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[datetime | None]
