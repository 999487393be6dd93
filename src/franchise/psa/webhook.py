"""Delivering the PSA outbox: signed JSON POSTs, retried with backoff, outside any transaction.

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
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise import __version__
from franchise.db import Database, utcnow
from franchise.errors import InvalidInput
from franchise.psa.models import WebhookEvent
from franchise.tickets.models import TicketEvent

if TYPE_CHECKING:
    # Imported where a request is sent: httpx loads about 5 MB (its command line's rich
    # and pygments too), which a server that never calls out does without.
    import httpx

SIGNATURE_HEADER = "X-Franchise-Signature"
EVENT_ID_HEADER = "X-Franchise-Event-Id"
TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 12
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
# A status change a day old misleads more than it informs; after this it is not sent.
MAX_AGE = timedelta(hours=24)
# Longer than a POST can take (TIMEOUT_SECONDS per event, `limit` events in a run).
CLAIM_LEASE = timedelta(minutes=30)


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
    db: Database,
    settings: WebhookSettings,
    limit: int = 100,
    *,
    now: datetime | None = None,
    client: httpx.Client | None = None,
) -> DeliveryReport:
    """POST due events (oldest first, at most `limit`); failures wait with backoff.

    Three steps, as for every outbound delivery: claim in a short transaction, POST with no
    transaction open (a slow PSA holds no lock), record the outcomes (on the events and in
    the tickets' history) in another short transaction.
    """
    import httpx

    url, secret = settings.psa_webhook_url, settings.psa_webhook_secret
    if not url:
        raise InvalidInput("FRANCHISE_PSA_WEBHOOK_URL is not set; nowhere to deliver to")
    if not secret:
        raise InvalidInput(
            "FRANCHISE_PSA_WEBHOOK_SECRET is not set; events are never sent unsigned"
        )
    now = now or utcnow()
    report = DeliveryReport()
    sender = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:64]
    claimed = _claim(db, sender, limit, now, report)
    if not claimed:
        return report
    results: list[tuple[int, str | None]] = []
    failed_tickets: set[int] = set()
    own_client = client is None
    http = client or httpx.Client(timeout=TIMEOUT_SECONDS)
    try:
        for event_id, (row_id, ticket_id, payload) in claimed.items():
            if ticket_id in failed_tickets:
                report.waiting += 1  # released unsent: an earlier event of its ticket failed
                results.append((row_id, _NOT_SENT))
                continue
            error = _post(http, url, secret, event_id, payload)
            results.append((row_id, error))
            if error is not None:
                failed_tickets.add(ticket_id)
    finally:
        if own_client:
            http.close()
    _record(db, sender, results, now, report)
    return report


# Marks an event released without being sent (its ticket's earlier event failed).
_NOT_SENT = "(not sent)"


def _claim(
    db: Database, sender: str, limit: int, now: datetime, report: DeliveryReport
) -> dict[str, tuple[int, int, dict[str, Any]]]:
    """Claim up to `limit` due events, in order; give up those too old. By event id."""
    claimed: dict[str, tuple[int, int, dict[str, Any]]] = {}
    with db.unit_of_work() as session:
        blocked: set[int] = set()
        for event in _pending(session, limit * 4):
            if len(claimed) >= limit:
                break
            if event.ticket_id in blocked:
                report.waiting += 1
                continue
            held = event.claimed_until is not None and event.claimed_until > now
            if held or (event.next_attempt_at is not None and event.next_attempt_at > now):
                # Another run is sending it, or it waits for a retry: later events of its
                # ticket wait too.
                blocked.add(event.ticket_id)
                report.waiting += 1
                continue
            if now - event.created_at > MAX_AGE:
                _give_up(session, event, now, f"older than {MAX_AGE} when it could be sent", report)
                continue
            event.claimed_by, event.claimed_until = sender, now + CLAIM_LEASE
            claimed[event.event_id] = (event.id, event.ticket_id, dict(event.payload))
    return claimed


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


def _post(
    http: httpx.Client, url: str, secret: str, event_id: str, payload: dict[str, Any]
) -> str | None:
    import httpx

    body = encode(payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"franchise/{__version__}",
        SIGNATURE_HEADER: sign(body, secret),
        EVENT_ID_HEADER: event_id,
    }
    try:
        response = http.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    if response.is_success:
        return None
    return f"HTTP {response.status_code}: {response.text[:200]}"


def _record(
    db: Database,
    sender: str,
    results: list[tuple[int, str | None]],
    now: datetime,
    report: DeliveryReport,
) -> None:
    with db.unit_of_work() as session:
        for row_id, error in results:
            event = session.scalar(
                select(WebhookEvent).where(WebhookEvent.id == row_id).with_for_update()
            )
            if event is None or event.claimed_by != sender:
                continue  # taken over after the lease ran out
            event.claimed_by = event.claimed_until = None
            if error == _NOT_SENT:
                continue
            event.attempts += 1
            if error is None:
                event.delivered_at, event.last_error, event.next_attempt_at = now, None, None
                report.delivered += 1
                _note(session, event, "psa_webhook", f"told the PSA: {_changes(event)}")
                continue
            event.last_error = error
            report.errors.append(
                {"event_id": event.event_id, "ticket_id": event.ticket_id, "error": error}
            )
            if event.attempts >= MAX_ATTEMPTS:
                _give_up(session, event, now, f"{error} (after {event.attempts} attempts)", report)
            else:
                event.next_attempt_at = now + backoff(event.attempts)
                report.failed += 1
                _note(
                    session,
                    event,
                    "psa_webhook_failed",
                    f"PSA webhook failed: {error}; retrying at "
                    f"{event.next_attempt_at:%H:%M:%S} UTC ({_changes(event)})",
                )


def _give_up(
    session: Session, event: WebhookEvent, now: datetime, reason: str, report: DeliveryReport
) -> None:
    event.gave_up_at, event.last_error, event.next_attempt_at = now, reason, None
    event.claimed_by = event.claimed_until = None
    report.gave_up += 1
    _note(
        session, event, "psa_webhook_failed", f"PSA webhook given up: {reason} ({_changes(event)})"
    )


def _changes(event: WebhookEvent) -> str:
    changes = event.payload.get("changes", {})
    return ", ".join(f"{name} {value.get('new')}" for name, value in changes.items()) or "no change"


def _note(session: Session, event: WebhookEvent, kind: str, note: str) -> None:
    # Written directly, not through add_note: telling the PSA is not a change to the ticket,
    # so its updated_at stays.
    session.add(TicketEvent(ticket_id=event.ticket_id, kind=kind, note=note))
