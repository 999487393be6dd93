"""Passkeys (WebAuthn, py_webauthn): a second factor, or a sign-in on their own.

User verification is required (a PIN or biometric on the device), so a passkey alone is
already two factors and phishing-resistant: it is bound to this site's domain. The
challenge of each ceremony travels sealed in a short-lived cookie (web/passkey_pages.py).

py_webauthn is imported by the ceremonies themselves, when someone registers or uses a
passkey: with what it imports in turn (cryptography, pyOpenSSL, pyasn1, cbor2) it adds about
7 MB to a process, which a server whose staff use no passkeys does without.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import PasskeyCredential, Staff
from franchise.db import utcnow
from franchise.errors import InvalidInput

MAX_PASSKEYS = 10


def has_passkey(session: Session, staff_id: int) -> bool:
    return (
        session.scalar(
            select(PasskeyCredential.id).where(PasskeyCredential.staff_id == staff_id).limit(1)
        )
        is not None
    )


def list_passkeys(session: Session, staff_id: int) -> list[PasskeyCredential]:
    return list(
        session.scalars(
            select(PasskeyCredential)
            .where(PasskeyCredential.staff_id == staff_id)
            .order_by(PasskeyCredential.id)
        )
    )


def registration_options(
    session: Session, staff: Staff, *, rp_id: str, rp_name: str
) -> tuple[str, bytes]:
    """The options for navigator.credentials.create, as JSON, and their challenge."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    existing = list_passkeys(session, staff.id)
    if len(existing) >= MAX_PASSKEYS:
        raise InvalidInput(f"at most {MAX_PASSKEYS} passkeys per person; remove one first")
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=rp_name,
        user_name=staff.email,
        user_id=str(staff.id).encode(),
        user_display_name=staff.name,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id)) for p in existing
        ],
    )
    return options_to_json(options), options.challenge


def register(
    session: Session,
    staff: Staff,
    credential: dict[str, Any],
    *,
    challenge: bytes,
    rp_id: str,
    origin: str,
    name: str = "Passkey",
) -> PasskeyCredential:
    from webauthn import verify_registration_response
    from webauthn.helpers import bytes_to_base64url
    from webauthn.helpers.exceptions import InvalidRegistrationResponse

    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            require_user_verification=True,
        )
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"the passkey could not be registered: {exc}") from None
    row = PasskeyCredential(
        staff_id=staff.id,
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=(name.strip() or "Passkey")[:100],
    )
    session.add(row)
    session.flush()
    return row


def authentication_options(
    session: Session, *, rp_id: str, staff_id: int | None = None
) -> tuple[str, bytes]:
    """Options for navigator.credentials.get: this person's passkeys, or (signing in
    without a password) any passkey of this site the device holds."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

    allow = (
        [
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
            for p in list_passkeys(session, staff_id)
        ]
        if staff_id is not None
        else None
    )
    options = generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=allow,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options), options.challenge


def authenticate(
    session: Session,
    credential: dict[str, Any],
    *,
    challenge: bytes,
    rp_id: str,
    origin: str,
    staff_id: int | None = None,
) -> int:
    """The staff id a passkey answer proves; InvalidInput if it proves nothing."""
    from webauthn import verify_authentication_response
    from webauthn.helpers.exceptions import InvalidAuthenticationResponse

    raw_id = credential.get("id") if isinstance(credential, dict) else None
    row = session.scalar(
        select(PasskeyCredential).where(PasskeyCredential.credential_id == str(raw_id or ""))
    )
    if row is None or (staff_id is not None and row.staff_id != staff_id):
        raise InvalidInput("this passkey is not registered here")
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=row.public_key,
            credential_current_sign_count=row.sign_count,
            require_user_verification=True,
        )
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"the passkey answer was refused: {exc}") from None
    row.sign_count = verified.new_sign_count
    row.last_used_at = utcnow()
    return row.staff_id


def parse_credential(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise InvalidInput("the passkey answer is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("the passkey answer is not an object")
    return data
