"""Browser sessions of signed-in staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from franchise.db import Base, utcnow


class WebSession(Base):
    """One signed-in browser. The cookie holds a random id; only its SHA-256 is stored, so a
    leaked database backup cannot be replayed as a cookie."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    # "full", or a sign-in half done: "mfa" (password checked, second factor still due) or
    # "enrol" (signed in, but nothing opens until a second factor is set up).
    stage: Mapped[str] = mapped_column(String(16), default="full", server_default="full")
    ip: Mapped[str] = mapped_column(String(64), default="", server_default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="", server_default="")
