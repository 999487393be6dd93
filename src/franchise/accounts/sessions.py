"""Server-side sessions: start, look up (sliding idle expiry under an absolute cap), end.

A session ends after `idle` without use (12 hours: a shift) and, however busy, `max_age`
after sign-in (FRANCHISE_SESSION_MAX_AGE_HOURS, 7 days by default): a stolen cookie stops
working within a week even if the thief keeps using it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.session_models import WebSession
from franchise.db import utcnow

LIFETIME = timedelta(hours=12)
MAX_AGE = timedelta(days=7)
FULL, MFA_DUE, ENROL_DUE = "full", "mfa", "enrol"
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
    # True while a second factor must be set up before anything else opens.
    must_enrol: bool = False

    @property
    def is_manager(self) -> bool:
        return self.role in ("owner", "admin")


def _digest(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def start_session(
    session: Session,
    staff: Staff,
    *,
    now: datetime | None = None,
    stage: str = FULL,
    ip: str = "",
    user_agent: str = "",
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
        # A half-done sign-in (second factor due) lasts minutes, not a shift.
        expires_at=now + (LIFETIME if stage != MFA_DUE else timedelta(minutes=10)),
        stage=stage,
        ip=ip[:64],
        user_agent=user_agent[:300],
    )
    session.add(web_session)
    # Expired rows are swept here rather than by a job: sign-ins are rare and this is cheap.
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.flush()
    return web_session, plain


def find_web_session(
    session: Session, plain: str, *, now: datetime | None = None, max_age: timedelta = MAX_AGE
) -> WebSession | None:
    """The stored row for a cookie value if still live (any stage); None if gone or stale."""
    now = now or utcnow()
    web_session = session.scalar(select(WebSession).where(WebSession.id_hash == _digest(plain)))
    if web_session is None or web_session.expires_at <= now:
        return None
    if now - web_session.created_at >= max_age:
        return None
    return web_session


def find_session(
    session: Session, plain: str, *, now: datetime | None = None, max_age: timedelta = MAX_AGE
) -> SignedIn | None:
    """The signed-in session for a cookie value, idle expiry pushed forward (never past the
    absolute limit); None if gone, stale or only half signed in."""
    now = now or utcnow()
    web_session = find_web_session(session, plain, now=now, max_age=max_age)
    if web_session is None or web_session.stage == MFA_DUE:
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
        must_enrol=web_session.stage == ENROL_DUE,
    )


def complete_session(web_session: WebSession, *, now: datetime | None = None) -> None:
    """The second factor was given (or set up): the session becomes a full one."""
    now = now or utcnow()
    web_session.stage = FULL
    web_session.last_seen_at = now
    web_session.expires_at = now + LIFETIME


def revoke_sessions(session: Session, staff_id: int) -> int:
    """Sign someone out everywhere; returns how many sessions ended."""
    result = session.execute(delete(WebSession).where(WebSession.staff_id == staff_id))
    return int(getattr(result, "rowcount", 0) or 0)


def list_sessions(
    session: Session, staff_id: int, *, now: datetime | None = None
) -> list[WebSession]:
    now = now or utcnow()
    return list(
        session.scalars(
            select(WebSession)
            .where(WebSession.staff_id == staff_id, WebSession.expires_at > now)
            .order_by(WebSession.created_at)
        )
    )


def end_session(session: Session, plain: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id_hash == _digest(plain)))
