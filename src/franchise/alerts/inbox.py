"""The inbox: raw webhook bodies stored before anything else happens, claimed by workers.

Accepting is one INSERT. Claiming marks a batch `processing` with a lease; processing an
item (see worker.py) re-checks the claim in its own transaction and marks it `done` there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session

from franchise.alerts.models import INBOX_STATES, InboxItem
from franchise.db import utcnow
from franchise.errors import InvalidInput
from franchise.integrations import check_payload, load_json, parse_payload
from franchise.integrations.normalized import MalformedPayload, NormalizedAlert

# Only these request headers are kept with a body: enough to trace a sender, no secrets.
KEPT_HEADERS = ("content-type", "user-agent", "x-forwarded-for", "x-real-ip", "content-length")


# Core, not the ORM unit of work, and all of a batch's rows in one statement: the hot path of
# a storm. sort_by_parameter_order: the ids come back in the order of the rows.
_INSERT = insert(InboxItem).returning(InboxItem.id, sort_by_parameter_order=True)


@dataclass(frozen=True)
class Accepted:
    inbox_id: int
    alerts: int  # how many the body holds
    error: str | None = None


@dataclass(frozen=True)
class Received:
    """A webhook body read and checked, ready to be stored: the work done before the INSERT.
    Its alerts are counted, not built: the worker parses the stored body."""

    kind: str
    text: str
    headers: dict[str, str]
    alerts: int
    error: str | None
    # The first alert's dedup key, for a format whose answer names it (ANSWERS_KEY).
    key: str | None = None


# PagerDuty's Events API answers with the event's dedup key; senders may keep it. Its event
# is one small alert, built here (there is no checker for it) and so read for its key once.
ANSWERS_KEY = frozenset({"pagerduty"})


def parse_body(kind: str, body: bytes | str) -> list[NormalizedAlert]:
    return parse_payload(kind, load_json(body))


def check_body(kind: str, body: bytes | str) -> int:
    """The number of alerts in a body, or MalformedPayload as `parse_body` would raise."""
    return check_payload(kind, load_json(body))


def receive(
    kind: str, body: bytes, headers: Mapping[str, str], remote: str | None = None
) -> Received:
    """Check a body and keep the headers worth keeping; a malformed body is kept with why."""
    kept = {name: headers[name] for name in KEPT_HEADERS if name in headers}
    if remote:
        kept["remote"] = remote
    text = body.decode("utf-8", errors="replace")
    try:
        if kind in ANSWERS_KEY:
            alerts = parse_body(kind, body)
            key = alerts[0].dedup_key if alerts else None
            return Received(kind, text, kept, len(alerts), None, key)
        return Received(kind, text, kept, check_body(kind, body), None)
    except MalformedPayload as exc:
        return Received(kind, text, kept, 0, exc.message)


def store(session: Session, integration_id: int, received: Received) -> Accepted:
    """Store one received body: `pending`, or `rejected` with the reason when malformed."""
    return store_many(session, [(integration_id, received)])[0]


def store_many(session: Session, items: Sequence[tuple[int, Received]]) -> list[Accepted]:
    """Store received bodies (integration id, body) with one INSERT ... RETURNING."""
    if not items:
        return []
    now = utcnow()
    rows = [
        {
            "integration_id": integration_id,
            "kind": received.kind,
            "received_at": now,
            "headers": received.headers,
            "body": received.text,
            "alert_count": received.alerts,
            "state": "rejected" if received.error else "pending",
            "attempts": 0,
            "error": received.error,
        }
        for integration_id, received in items
    ]
    ids = session.connection().execute(_INSERT, rows).scalars().all()
    return [
        Accepted(int(inbox_id), received.alerts, received.error)
        for inbox_id, (_, received) in zip(ids, items, strict=True)
    ]


def claim(
    session: Session,
    *,
    worker: str,
    batch: int,
    lease_seconds: float,
    alerts: int | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Claim up to `batch` pending items (and items whose claim outlived its lease), and
    with `alerts` only as many of them (from the oldest, at least one) as hold that many
    alerts in all: a claim of one-alert webhooks is as much work as one of large bodies.

    PostgreSQL: FOR UPDATE SKIP LOCKED, so parallel workers take different rows without
    waiting. SQLite: the transaction began with BEGIN IMMEDIATE, so the select and the mark
    are the only writer's and atomic.
    """
    now = now or utcnow()
    expired = now - timedelta(seconds=lease_seconds)
    candidates = (
        select(InboxItem.id, InboxItem.alert_count)
        .where(
            or_(
                InboxItem.state == "pending",
                and_(InboxItem.state == "processing", InboxItem.claimed_at < expired),
            )
        )
        .order_by(InboxItem.id)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = claimable([(row.id, row.alert_count) for row in session.execute(candidates)], alerts)
    if not ids:
        return []
    session.execute(
        update(InboxItem)
        .where(InboxItem.id.in_(ids))
        .values(
            state="processing",
            claimed_at=now,
            claimed_by=worker,
            attempts=InboxItem.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return ids


def renew(session: Session, ids: Sequence[int], *, worker: str, now: datetime | None = None) -> int:
    """Restart the lease of claimed items still this worker's: a claim worked through while
    webhooks keep the drainer waiting can outlast its lease, and another worker (or this
    one's next claim, one attempt more) would take the rest again. Returns how many."""
    if not ids:
        return 0
    result = session.execute(
        update(InboxItem)
        .where(
            InboxItem.id.in_(list(ids)),
            InboxItem.state == "processing",
            InboxItem.claimed_by == worker,
        )
        .values(claimed_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def claimable(candidates: Sequence[tuple[int, int]], alerts: int | None) -> list[int]:
    """The ids of the oldest candidates (id, alert count) that hold at most `alerts` alerts
    in all, and always the first (an item larger than a claim is still processed, in
    parts); every candidate without `alerts`."""
    taken: list[int] = []
    total = 0
    for item_id, count in candidates:
        total += max(count, 1)  # an item without alerts still costs its own work
        if taken and alerts is not None and total > alerts:
            break
        taken.append(item_id)
    return taken


def list_inbox(session: Session, *, state: str | None = None, limit: int = 50) -> list[InboxItem]:
    if state is not None and state not in INBOX_STATES:
        raise InvalidInput(f"unknown inbox state '{state}' (use {', '.join(INBOX_STATES)})")
    query = select(InboxItem).order_by(InboxItem.id.desc()).limit(limit)
    if state:
        query = query.where(InboxItem.state == state)
    return list(session.scalars(query))


def inbox_dict(item: InboxItem, *, with_body: bool = False) -> dict[str, object]:
    data: dict[str, object] = {
        "id": item.id,
        "integration_id": item.integration_id,
        "kind": item.kind,
        "received_at": item.received_at.isoformat(),
        "state": item.state,
        "alerts": item.alert_count,
        "attempts": item.attempts,
        "claimed_by": item.claimed_by,
        "claimed_at": item.claimed_at.isoformat() if item.claimed_at else None,
        "processed_at": item.processed_at.isoformat() if item.processed_at else None,
        "error": item.error,
        "headers": item.headers,
    }
    if with_body:
        try:
            data["body"] = json.loads(item.body)
        except ValueError:
            data["body"] = item.body
    return data
