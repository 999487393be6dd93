"""One-time password-reset links: pure signing and checking, no database.

A token is `<staff id>.<expiry (unix seconds)>.<mac>`; the MAC (HMAC-SHA256 with a key
derived for this purpose only) covers the id, the expiry and the account's current password
hash and reset epoch. Setting a password changes that hash, so a link works once: after it is
used (or the password is changed any other way) every link issued before fails. Deactivating
the account raises its epoch, so no link issued before then works again either, whether or
not the account comes back within the link's lifetime. Nothing else is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

PURPOSE = "password-reset"


@dataclass(frozen=True)
class ResetToken:
    staff_id: int
    expires_at: datetime
    mac: str


def _mac(key: bytes, staff_id: int, expires: int, password_hash: str | None, epoch: int) -> str:
    # Epoch 0 leaves the message as it was before epochs existed: links issued then still work.
    tail = f":{epoch}" if epoch else ""
    message = f"{PURPOSE}:{staff_id}:{expires}:{password_hash or '-'}{tail}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(
    key: bytes, staff_id: int, expires_at: datetime, password_hash: str | None, epoch: int = 0
) -> str:
    expires = int(expires_at.timestamp())
    return f"{staff_id}.{expires}.{_mac(key, staff_id, expires, password_hash, epoch)}"


def parse(token: str) -> ResetToken | None:
    """The token's parts, or None when it is not shaped like one of ours."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdecimal() or not parts[1].isdecimal():
        return None
    # Ten digits of seconds reach the year 2286; more would overflow datetime.
    if not 20 <= len(parts[2]) <= 64 or len(parts[0]) > 10 or len(parts[1]) > 10:
        return None
    expires = datetime.fromtimestamp(int(parts[1]), UTC)
    return ResetToken(int(parts[0]), expires, parts[2])


def valid(key: bytes, token: ResetToken, password_hash: str | None, epoch: int = 0) -> bool:
    expires = int(token.expires_at.timestamp())
    expected = _mac(key, token.staff_id, expires, password_hash, epoch)
    return hmac.compare_digest(expected.encode(), token.mac.encode())
