"""A password is reset: the new one is checked by the one policy, and every web session of
that person ends (the account and its sign-ins live in different packages)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.password_policy import check_password
from franchise.accounts.passwords import hash_password
from franchise.web.sessions import revoke_sessions


def set_password(session: Session, staff: Staff, password: str) -> None:
    """A new password (a reset): checked by the one policy; every session of theirs ends."""
    check_password(password)
    staff.password_hash = hash_password(password)
    revoke_sessions(session, staff.id)
    session.flush()
