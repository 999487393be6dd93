"""Runbooks with their revisions, and runs of a runbook on a ticket."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from franchise.db import Base, utcnow


class Runbook(Base):
    __tablename__ = "runbooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    maintainer: Mapped[str | None] = mapped_column(String(200))
    current_revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RunbookRevision(Base):
    """The YAML source is the truth; every save is a new numbered revision."""

    __tablename__ = "runbook_revisions"
    __table_args__ = (UniqueConstraint("runbook_id", "number", name="runbook_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    runbook_id: Mapped[int] = mapped_column(ForeignKey("runbooks.id", ondelete="CASCADE"))
    number: Mapped[int]
    source: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    ticket_ids: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RunbookRun(Base):
    __tablename__ = "runbook_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    runbook_id: Mapped[int] = mapped_column(ForeignKey("runbooks.id"), index=True)
    revision_number: Mapped[int]
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    current_step: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_level: Mapped[str | None] = mapped_column(String(32))
    outcome_step: Mapped[str | None] = mapped_column(String(100))
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    finished_at: Mapped[datetime | None]


class RunStep(Base):
    """One answered step of a run: which answer, what evidence, who, when."""

    __tablename__ = "run_steps"
    __table_args__ = (UniqueConstraint("run_id", "seq", name="run_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runbook_runs.id", ondelete="CASCADE"))
    seq: Mapped[int]
    step_id: Mapped[str] = mapped_column(String(100))
    answer: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # "Step back" retracts an answer instead of deleting it, so every answer stays on record.
    retracted_at: Mapped[datetime | None]
