"""Files attached to tickets, and every mailbox message the poller has handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from franchise.db import Base, utcnow


class TicketAttachment(Base):
    """A file that came with a ticket. `data` is None when it was over the size cap."""

    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int]
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(16), default="email")
    # The e-mail it came in (Message-ID), so a reader can tell which reply brought it.
    message_id: Mapped[str | None] = mapped_column(String(998))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MailMessage(Base):
    """One message taken from a mailbox: never handled twice, and what became of it.

    Keyed by the folder's UIDVALIDITY and the message UID (the IMAP way to say "this exact
    message"), and indexed by Message-ID so a copy in another folder is not a new ticket.
    """

    __tablename__ = "mail_messages"
    __table_args__ = (UniqueConstraint("mailbox", "uidvalidity", "uid", name="mailbox_uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(300))
    # IMAP UIDs and UIDVALIDITY are unsigned 32-bit: past a signed INTEGER on PostgreSQL.
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str] = mapped_column(String(998), index=True)
    sender: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    # ticket | reply | duplicate | ignored | error
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)
