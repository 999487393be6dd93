"""Knowledge-base articles pushed from runbooks: which runbook is which article out there."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from franchise.db import Base, utcnow


class KbArticle(Base):
    """One runbook's article in one knowledge base (hudu or itglue), by its external id."""

    __tablename__ = "kb_articles"
    __table_args__ = (UniqueConstraint("kind", "runbook_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    runbook_key: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(64))
    # IT Glue keeps a document's text in a section of its own; Hudu has none.
    section_id: Mapped[str | None] = mapped_column(String(64))
    pushed_revision: Mapped[int]
    pushed_at: Mapped[datetime] = mapped_column(default=utcnow)
