"""The sign-in log: every attempt, successful or not, with how and from where."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from franchise.accounts.models import SignInEvent
from franchise.db import utcnow

KEEP = timedelta(days=365)


def record_sign_in(
    session: Session,
    *,
    email: str,
    method: str,
    outcome: str,
    staff_id: int | None = None,
    reason: str = "",
    ip: str = "",
    user_agent: str = "",
) -> None:
    # Cut to the column sizes: what was typed into the form is the attacker's to choose.
    session.add(
        SignInEvent(
            at=utcnow(),
            staff_id=staff_id,
            email=email[:320],
            method=method,
            outcome=outcome,
            reason=reason[:200],
            ip=ip[:64],
            user_agent=user_agent[:300],
        )
    )
    if outcome == "success":
        # A year of history is enough for an audit; swept on success, which is rare.
        session.execute(delete(SignInEvent).where(SignInEvent.at < utcnow() - KEEP))
    session.flush()


def recent_sign_ins(session: Session, *, limit: int = 50) -> list[SignInEvent]:
    return list(session.scalars(select(SignInEvent).order_by(SignInEvent.id.desc()).limit(limit)))
