"""Server-side sessions: start, look up (sliding expiry) and end."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.db import utcnow
from franchise.web.models import WebSession

LIFETIME = timedelta(hours=12)
# Sliding expiry would otherwise cost a write on every page view; a minute's slack is harmless.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in, as plain values: error pages render after the request's transaction
    has rolled back, when ORM objects from it can no longer be read."""

    staff_id: int
    name: str
    email: str
    role: str
    level: str
    csrf_token: str

    @property
    def is_manager(self) -> bool:
        return self.role in ("owner", "admin")


def _digest(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def start_session(
    session: Session, staff: Staff, *, now: datetime | None = None
) -> tuple[WebSession, str]:
    """Create a session; the plain id goes into the cookie and is never stored."""
    now = now or utcnow()
    plain = secrets.token_urlsafe(32)
    web_session = WebSession(
        id_hash=_digest(plain),
        staff_id=staff.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + LIFETIME,
    )
    session.add(web_session)
    # Expired rows are swept here rather than by a job: sign-ins are rare and this is cheap.
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.flush()
    return web_session, plain


def find_session(session: Session, plain: str, *, now: datetime | None = None) -> SignedIn | None:
    """The live session for a cookie value, its expiry pushed forward; None if gone or stale."""
    now = now or utcnow()
    web_session = session.scalar(select(WebSession).where(WebSession.id_hash == _digest(plain)))
    if web_session is None or web_session.expires_at <= now:
        return None
    staff = session.get(Staff, web_session.staff_id)
    if staff is None or not staff.active:
        return None
    if now - web_session.last_seen_at >= TOUCH_EVERY:
        web_session.last_seen_at = now
        web_session.expires_at = now + LIFETIME
    return SignedIn(
        staff_id=staff.id,
        name=staff.name,
        email=staff.email,
        role=staff.role,
        level=staff.level,
        csrf_token=web_session.csrf_token,
    )


def end_session(session: Session, plain: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id_hash == _digest(plain)))
