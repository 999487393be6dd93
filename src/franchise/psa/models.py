"""The webhook outbox and what each PSA import last said about a ticket."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from franchise.db import Base, utcnow


class WebhookEvent(Base):
    """One change to tell the PSA about, written in the same transaction as the change."""

    __tablename__ = "psa_webhook_outbox"
    __table_args__ = (Index("ix_psa_webhook_outbox_pending", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set when retries ran out or the event grew too old to be worth sending.
    gave_up_at: Mapped[datetime | None]
    # A delivery run that is POSTing the event (outside any transaction); another run may
    # take it once `claimed_until` has passed.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]


class ImportState(Base):
    """The values the PSA export had for a ticket when it was last imported.

    A re-import changes only what changed in the PSA since then, so an edit made in
    Franchise is not reverted by an export that still shows the old value.
    """

    __tablename__ = "psa_import_state"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    format: Mapped[str] = mapped_column(String(32))
    values: Mapped[dict[str, Any]]
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
