"""Signed action links and Slack request signatures: pure functions, no database.

A link token is `<id>.<mac>`: `id` names the stored link row (single use, expiry, person,
action, target), `mac` is an HMAC-SHA256 over all of those, so changing any character of the
token, or the row behind it, makes it fail. Slack signs every callback with
`v0=HMAC-SHA256(signing secret, "v0:{timestamp}:{body}")`; a timestamp more than five
minutes from now is a replay and refused even when correctly signed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

SLACK_WINDOW_SECONDS = 5 * 60
_ID_BYTES = 12


def new_link_id() -> str:
    return secrets.token_urlsafe(_ID_BYTES)


def _message(link_id: str, staff_id: int, action: str, target: str, expires_at: datetime) -> bytes:
    return f"{link_id}:{staff_id}:{action}:{target}:{int(expires_at.timestamp())}".encode()


def link_mac(
    key: bytes, link_id: str, staff_id: int, action: str, target: str, expires_at: datetime
) -> str:
    digest = hmac.new(
        key, _message(link_id, staff_id, action, target, expires_at), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def split_token(token: str) -> tuple[str, str] | None:
    """(id, mac), or None when the token is not shaped like one of ours."""
    link_id, dot, mac = token.partition(".")
    if not dot or not 8 <= len(link_id) <= 32 or not 20 <= len(mac) <= 64:
        return None
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    if not set(link_id) <= allowed or not set(mac) <= allowed:
        return None
    return link_id, mac


def macs_match(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slack_request_problem(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float
) -> str | None:
    """Why a Slack callback must be refused, or None when it is genuine and fresh."""
    if not timestamp or not signature:
        return "missing X-Slack-Request-Timestamp or X-Slack-Signature"
    if not timestamp.isdecimal():
        return "X-Slack-Request-Timestamp is not a number of seconds"
    if abs(now - int(timestamp)) > SLACK_WINDOW_SECONDS:
        return "the request is more than five minutes old (or from the future): a replay"
    if not hmac.compare_digest(slack_signature(secret, timestamp, body), signature):
        return "the signature does not match the signing secret"
    return None
