"""Second factors: an authenticator app (TOTP, RFC 6238) and single-use recovery codes.

The TOTP secret is sealed like the other stored secrets (orgsettings.sealing); a code is
accepted once (the last used time step is kept) within one step of clock drift either way.
Recovery codes are random, shown once, and stored as SHA-256 hashes.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from franchise.accounts.models import RecoveryCode, Staff, TotpFactor
from franchise.db import utcnow
from franchise.errors import InvalidInput
from franchise.orgsettings.sealing import seal, unseal
from franchise.settings import Settings

RECOVERY_CODES = 10
STEP_SECONDS = 30
REQUIRE_MFA_CHOICES = ("off", "managers", "everyone")


def mfa_required(require_mfa: str, role: str) -> bool:
    """Whether this organisation's rule asks this role for a second factor."""
    if require_mfa == "everyone":
        return True
    return require_mfa == "managers" and role in ("owner", "admin")


def has_totp(session: Session, staff_id: int) -> bool:
    factor = session.get(TotpFactor, staff_id)
    return factor is not None and factor.confirmed_at is not None


def start_totp(session: Session, settings: Settings, staff: Staff) -> str:
    """A new secret, not yet in force: it counts once a code from it is confirmed."""
    secret = pyotp.random_base32()
    factor = session.get(TotpFactor, staff.id)
    if factor is not None and factor.confirmed_at is not None:
        raise InvalidInput("an authenticator app is already set up; remove it first")
    if factor is None:
        factor = TotpFactor(staff_id=staff.id, secret_sealed=seal(settings, secret))
        session.add(factor)
    else:
        factor.secret_sealed = seal(settings, secret)
    session.flush()
    return secret


def provisioning_uri(secret: str, *, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def pending_secret(session: Session, settings: Settings, staff_id: int) -> str | None:
    factor = session.get(TotpFactor, staff_id)
    if factor is None or factor.confirmed_at is not None:
        return None
    return unseal(settings, factor.secret_sealed)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = "".join(code.split())
    if not (len(code) == 6 and code.isdecimal()):
        return None
    totp = pyotp.TOTP(secret)
    step = int(now.timestamp()) // STEP_SECONDS
    for candidate in (step, step - 1, step + 1):
        if secrets.compare_digest(totp.at(candidate * STEP_SECONDS), code):
            return candidate
    return None


def confirm_totp(
    session: Session, settings: Settings, staff: Staff, code: str, *, now: datetime | None = None
) -> list[str]:
    """Put the pending secret in force if `code` comes from it; returns new recovery codes."""
    now = now or utcnow()
    factor = session.get(TotpFactor, staff.id)
    if factor is None or factor.confirmed_at is not None:
        raise InvalidInput("start setting up the authenticator app first")
    step = _matching_step(unseal(settings, factor.secret_sealed), code, now)
    if step is None:
        raise InvalidInput("that code does not match; check the app's clock and try the next one")
    factor.confirmed_at = now
    factor.last_step = step
    return new_recovery_codes(session, staff)


def verify_totp(
    session: Session, settings: Settings, staff_id: int, code: str, *, now: datetime | None = None
) -> bool:
    factor = session.get(TotpFactor, staff_id)
    if factor is None or factor.confirmed_at is None:
        return False
    step = _matching_step(unseal(settings, factor.secret_sealed), code, now or utcnow())
    if step is None or step <= factor.last_step:
        return False
    factor.last_step = step
    return True


def _code_hash(code: str) -> str:
    return hashlib.sha256("".join(code.lower().split()).replace("-", "").encode()).hexdigest()


def new_recovery_codes(session: Session, staff: Staff) -> list[str]:
    """Replace every recovery code of this person with ten new ones (shown once)."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.staff_id == staff.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)  # 40 bits each, single use, behind the password
        code = f"{raw[:5]}-{raw[5:]}"
        session.add(RecoveryCode(staff_id=staff.id, code_hash=_code_hash(code)))
        codes.append(code)
    session.flush()
    return codes


def use_recovery_code(
    session: Session, staff_id: int, code: str, *, now: datetime | None = None
) -> bool:
    row = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.staff_id == staff_id,
            RecoveryCode.code_hash == _code_hash(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return False
    row.used_at = now or utcnow()
    return True


def remove_mfa(session: Session, staff_id: int) -> None:
    """For a lost phone: the owner or an admin removes the factor (CLI); enrolment starts over."""
    session.execute(delete(TotpFactor).where(TotpFactor.staff_id == staff_id))
    session.execute(delete(RecoveryCode).where(RecoveryCode.staff_id == staff_id))
    session.flush()
