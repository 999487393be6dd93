"""Tickets and their append-only history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from franchise.db import Base, utcnow

STATUSES = (
    "new",
    "in_progress",
    "waiting_on_client",
    "waiting_on_approval",
    "escalated",
    # The run reached a resolve ending: what is left is ticking that ending's done list.
    "ready_to_resolve",
    "resolved",
    "closed",
)
PRIORITIES = ("low", "normal", "high", "critical")
SOURCES = ("web", "api", "email", "alert", "import", "cli")
# suggestion: attached on opening, confident enough; category: the runbook of a category
# given by hand; technician: attached, replaced or run by a technician; detached: see below.
RUNBOOK_SOURCES = ("suggestion", "category", "technician", "detached")


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="source_external_id"),
        Index("ix_tickets_status_created", "status", "created_at"),
        # The audit's busiest-categories and the dashboard's coverage group recent tickets.
        Index("ix_tickets_created_category", "created_at", "category"),
        # Also serves lookups by category alone; the audit counts each category's recent
        # tickets on it.
        Index("ix_tickets_category_created", "category", "created_at"),
        # The queue pages newest first by (created_at, id) and by (updated_at, id), and
        # narrows by client, assignee or level on the way.
        Index("ix_tickets_created_id", "created_at", "id"),
        Index("ix_tickets_updated_id", "updated_at", "id"),
        Index("ix_tickets_client_created", "client_id", "created_at", "id"),
        Index("ix_tickets_assignee_created", "assignee_id", "created_at", "id"),
        Index("ix_tickets_level_created", "level", "created_at", "id"),
        Index("ix_tickets_priority_created", "priority", "created_at", "id"),
        # The queue sorted by title pages by (title, id). Sorted by priority it pages on
        # ix_tickets_priority_rank_id, an index on an expression made in migration 0026.
        Index("ix_tickets_title_id", "title", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    # The affected user: a contact of the client (removing the contact clears it).
    requester_id: Mapped[int | None] = mapped_column(
        ForeignKey("client_contacts.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    status: Mapped[str] = mapped_column(String(32), default="new")
    level: Mapped[str] = mapped_column(String(32), default="L1")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    source: Mapped[str] = mapped_column(String(16), default="web")
    external_id: Mapped[str | None] = mapped_column(String(200))
    runbook_key: Mapped[str | None] = mapped_column(String(100))
    # How the runbook came to the ticket (RUNBOOK_SOURCES); None on tickets from before this
    # was tracked. "detached" means a technician said no runbook covers the ticket.
    runbook_source: Mapped[str | None] = mapped_column(String(16))
    # The category was given by a person (or the PSA), so it no longer follows the runbook.
    category_by_hand: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The best runbook when the ticket was opened and the confidence it was the right one:
    # attached if at or above the threshold, otherwise only offered.
    suggested_runbook_key: Mapped[str | None] = mapped_column(String(100))
    suggestion_confidence: Mapped[float | None] = mapped_column(Float)
    tags: Mapped[list[str]] = mapped_column(default=list)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class TicketEvent(Base):
    """One change to a ticket: who, when, what field, from what, to what."""

    __tablename__ = "ticket_events"
    __table_args__ = (
        # The KPI's owner-wait time looks up level changes to "owner" across all history,
        # then the next level or status change of each ticket; both read the index alone.
        Index("ix_ticket_events_field_value", "field", "new_value", "ticket_id", "at"),
        Index("ix_ticket_events_ticket_at", "ticket_id", "at", "field"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    kind: Mapped[str] = mapped_column(String(32))
    field: Mapped[str | None] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    # Minutes worked, on internal notes; the ticket's time is their sum.
    minutes: Mapped[int | None] = mapped_column(Integer)


class NoteAttachment(Base):
    """A file on an internal note. The bytes live under FRANCHISE_HOME/attachments, named by
    `stored_name` (never by the uploader's file name); the row says what it is."""

    __tablename__ = "note_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("ticket_events.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
