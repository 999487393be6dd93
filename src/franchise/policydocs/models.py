"""Versioned policy documents: the escalation map, approval boundaries and message templates.

Each is edited as one YAML document and every save is a new revision, so a change can be
reviewed, diffed and linked from a drill review ("tighten escalation rule").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from franchise.db import Base, utcnow

POLICY_KINDS = ("escalation", "boundaries", "templates")


class PolicyRevision(Base):
    __tablename__ = "policy_revisions"
    __table_args__ = (UniqueConstraint("kind", "number", name="kind_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    number: Mapped[int]
    source: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
