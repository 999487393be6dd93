"""Staff and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.accounts.models import LEVELS, ROLES, ApiToken, Staff
from franchise.accounts.password_policy import check_password
from franchise.accounts.passwords import hash_password
from franchise.accounts.sessions import revoke_sessions
from franchise.addresses import EMAIL
from franchise.db import utcnow
from franchise.errors import Conflict, InvalidInput, NotAuthenticated, NotFound

TOKEN_PREFIX = "frn_"  # noqa: S105 - a public prefix, not a secret


def check_role_level(role: str, level: str) -> None:
    """Refuse a role and level that do not go together, naming both fields.

    The owner level decides the owner's approvals and takes escalations to the owner, so it
    belongs to the owner role only: a technician, service manager or admin set to it would
    quietly gain the owner's say. Everyone else works at L1 or L2 (an admin's management
    rights come from the role, not the level)."""
    if role not in ROLES:
        raise InvalidInput(f"Role: unknown role '{role}' (use {', '.join(ROLES)})")
    if level not in LEVELS:
        raise InvalidInput(f"Level: unknown level '{level}' (use {', '.join(LEVELS)})")
    if level == "owner" and role != "owner":
        raise InvalidInput(
            f"Role and Level: the owner level is for the owner role only; "
            f"choose level L1 or L2 for role '{role}', or role owner"
        )


def add_staff(
    session: Session,
    *,
    name: str,
    email: str,
    role: str,
    level: str,
    password: str | None = None,
) -> Staff:
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise InvalidInput(f"'{email}' is not an e-mail address")
    check_role_level(role, level)
    if not name.strip():
        raise InvalidInput("a staff member needs a name")
    if session.scalar(select(Staff).where(Staff.email == email)):
        raise Conflict(f"a staff member with e-mail {email} already exists")
    if password is not None:
        check_password(password)
    staff = Staff(
        name=name.strip(),
        email=email,
        role=role,
        level=level,
        password_hash=hash_password(password) if password else None,
    )
    session.add(staff)
    session.flush()
    return staff


def get_staff(session: Session, ref: str | int) -> Staff:
    """Find staff by id, e-mail or (unique, case-insensitive) name."""
    staff: Staff | None = None
    text = str(ref).strip()
    if text.isdecimal():
        staff = session.get(Staff, int(text))
    elif "@" in text:
        staff = session.scalar(select(Staff).where(Staff.email == text.lower()))
    else:
        matches = list(session.scalars(select(Staff).where(func.lower(Staff.name) == text.lower())))
        if len(matches) > 1:
            raise InvalidInput(f"more than one staff member is called '{text}'; use the e-mail")
        staff = matches[0] if matches else None
    if staff is None:
        raise NotFound(f"no staff member '{text}'")
    return staff


def list_staff(session: Session) -> list[Staff]:
    return list(session.scalars(select(Staff).order_by(Staff.id)))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, staff: Staff, name: str) -> tuple[ApiToken, str]:
    """Create a token; the plain value is returned once and never stored."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, staff_id=staff.id, token_hash=_digest(plain), prefix=plain[:10])
    session.add(token)
    session.flush()
    return token, plain


def list_tokens(session: Session) -> list[tuple[ApiToken, Staff]]:
    """Every token with its staff member, oldest first (never the values: only hashes exist)."""
    return [
        (token, staff)
        for token, staff in session.execute(
            select(ApiToken, Staff).join(Staff, Staff.id == ApiToken.staff_id).order_by(ApiToken.id)
        )
    ]


def revoke_token(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no API token {token_id}")
    token.revoked_at = token.revoked_at or utcnow()
    return token


def authenticate_token(session: Session, plain: str) -> Staff:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plain)))
    if token is None or token.revoked_at is not None:
        raise NotAuthenticated("invalid or revoked API token")
    staff = session.get(Staff, token.staff_id)
    if staff is None or not staff.active:
        raise NotAuthenticated("the token's staff member is no longer active")
    now = utcnow()
    # Written at most every few minutes so reads through the API do not each cost a write.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
        token.last_used_at = now
    return staff


def set_password(session: Session, staff: Staff, password: str) -> None:
    """A new password (a reset): checked by the one policy; every session of theirs ends."""
    check_password(password)
    staff.password_hash = hash_password(password)
    revoke_sessions(session, staff.id)
    session.flush()
