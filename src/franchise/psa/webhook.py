"""Delivering the outbox: signed JSON POSTs to the PSA, retried with backoff.

Each POST carries `X-Franchise-Event-Id` (receivers drop events they have seen, since a
delivery whose answer was lost is sent again) and `X-Franchise-Signature:
sha256=<hex HMAC-SHA256 of the raw body with the shared secret>`.

Events for one ticket go out in order: while an earlier event of a ticket waits for a
retry, later ones wait too, so a PSA never sees "resolved" and then a stale "in_progress".
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise import __version__
from franchise.db import utcnow
from franchise.errors import InvalidInput
from franchise.psa.models import WebhookEvent

SIGNATURE_HEADER = "X-Franchise-Signature"
EVENT_ID_HEADER = "X-Franchise-Event-Id"
TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 12
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
# A status change a day old misleads more than it informs; after this it is not sent.
MAX_AGE = timedelta(hours=24)


class WebhookSettings(Protocol):
    """The FRANCHISE_PSA_WEBHOOK_* part of Settings."""

    psa_webhook_url: str
    psa_webhook_secret: str


def sign(body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(body: bytes, header: str | None, secret: str) -> bool:
    """What a receiver does: recompute over the raw body, compare in constant time."""
    return header is not None and hmac.compare_digest(sign(body, secret), header)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min ... doubling up to an hour between tries."""
    wait: timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(wait, LONGEST_WAIT)


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    gave_up: int = 0
    waiting: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "delivered": self.delivered,
            "failed": self.failed,
            "gave_up": self.gave_up,
            "waiting": self.waiting,
            "errors": self.errors,
        }


def deliver_outbox(
    session: Session,
    settings: WebhookSettings,
    limit: int = 100,
    *,
    now: datetime | None = None,
    client: httpx.Client | None = None,
) -> DeliveryReport:
    """POST due events (oldest first, at most `limit`); failures wait with backoff."""
    url, secret = settings.psa_webhook_url, settings.psa_webhook_secret
    if not url:
        raise InvalidInput("FRANCHISE_PSA_WEBHOOK_URL is not set; nowhere to deliver to")
    if not secret:
        raise InvalidInput(
            "FRANCHISE_PSA_WEBHOOK_SECRET is not set; events are never sent unsigned"
        )
    now = now or utcnow()
    report = DeliveryReport()
    own_client = client is None
    http = client or httpx.Client(timeout=TIMEOUT_SECONDS)
    try:
        blocked: set[int] = set()
        for event in _pending(session, limit * 4):
            if report.delivered + report.failed >= limit:
                break
            if event.ticket_id in blocked:
                report.waiting += 1
                continue
            if now - event.created_at > MAX_AGE:
                _give_up(event, now, f"older than {MAX_AGE} when it could be sent", report)
                continue
            if event.next_attempt_at is not None and event.next_attempt_at > now:
                blocked.add(event.ticket_id)
                report.waiting += 1
                continue
            if not _send(http, url, secret, event, now, report):
                blocked.add(event.ticket_id)
    finally:
        if own_client:
            http.close()
    session.flush()
    return report


def _pending(session: Session, window: int) -> list[WebhookEvent]:
    query = (
        select(WebhookEvent)
        .where(WebhookEvent.delivered_at.is_(None), WebhookEvent.gave_up_at.is_(None))
        .order_by(WebhookEvent.id)
        .limit(window)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Two `deliver` runs at once (cron overlap, several app hosts) never send one event twice.
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def _send(
    http: httpx.Client,
    url: str,
    secret: str,
    event: WebhookEvent,
    now: datetime,
    report: DeliveryReport,
) -> bool:
    body = encode(event.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"franchise/{__version__}",
        SIGNATURE_HEADER: sign(body, secret),
        EVENT_ID_HEADER: event.event_id,
    }
    event.attempts += 1
    try:
        response = http.post(url, content=body, headers=headers)
        error = (
            None if response.is_success else f"HTTP {response.status_code}: {response.text[:200]}"
        )
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    if error is None:
        event.delivered_at, event.last_error, event.next_attempt_at = now, None, None
        report.delivered += 1
        return True
    event.last_error = error
    report.errors.append({"event_id": event.event_id, "ticket_id": event.ticket_id, "error": error})
    if event.attempts >= MAX_ATTEMPTS:
        _give_up(event, now, f"{error} (after {event.attempts} attempts)", report)
    else:
        event.next_attempt_at = now + backoff(event.attempts)
        report.failed += 1
    return False


def _give_up(event: WebhookEvent, now: datetime, reason: str, report: DeliveryReport) -> None:
    event.gave_up_at, event.last_error, event.next_attempt_at = now, reason, None
    report.gave_up += 1
