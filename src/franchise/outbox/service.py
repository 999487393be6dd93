"""Queue outbound deliveries in the transaction; send them after it, retried with backoff.

`enqueue` adds a row to the caller's transaction and asks the unit of work to deliver it
once committed, so nobody hears of something that was rolled back. `deliver_due` (the
worker, `franchise serve`, `franchise outbox deliver`) sends whatever is due. Both go the
same way: claim in one short transaction (FOR UPDATE SKIP LOCKED on PostgreSQL), send with
no transaction open (a slow SMTP server never holds SQLite's write lock or a row lock),
record the outcome on the row and the ticket in another short transaction.

What a kind of delivery does lives beside its domain (`messages/outbound.py` ...), named
in `CHANNELS`; this module knows only the rows.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from franchise.db import Database, after_commit, utcnow
from franchise.orgsettings.secrets import effective_settings
from franchise.outbox.models import OutboxItem
from franchise.settings import Settings

log = logging.getLogger(__name__)

# kind -> module holding its `CHANNEL`; imported when first needed, so the outbox does not
# import the domains that import it.
CHANNELS = {
    "email": "franchise.messages.outbound",
    "owner_notify": "franchise.notify.outbound",
    "person_notify": "franchise.people.outbound",
    "psa_push": "franchise.psa.connectors.outbound",
}
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
# Longer than any network timeout of a channel (SMTP: 30 s): a claim still held after this
# belongs to a sender that died mid-way, and the item is taken again.
LEASE = timedelta(minutes=5)
MAX_ERROR = 1000
_PENDING_IDS = "franchise_outbox_ids"


class SendFailed(Exception):
    """A delivery did not go through. `permanent`: trying again cannot help (a refused
    recipient, nothing configured to send to); the item is given up at once."""

    def __init__(
        self, reason: str, *, permanent: bool = False, retry_after: timedelta | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        # The receiver said when to come back (HTTP 429 Retry-After): no sooner than that.
        self.retry_after = retry_after


@dataclass(frozen=True)
class Outcome:
    """What an attempt came to: delivered, retrying (at `retry_at`) or failed (given up)."""

    state: str
    attempts: int
    error: str | None = None
    retry_at: datetime | None = None
    # What the channel said about a delivery that went through ("2 services").
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "attempts": self.attempts,
            "error": self.error,
            "retry_at": self.retry_at.isoformat() if self.retry_at else None,
        }

    def describe(self) -> str:
        """The outcome in words for the ticket history."""
        if self.state == "delivered":
            return "delivered" if self.attempts == 1 else f"delivered on attempt {self.attempts}"
        if self.state == "retrying" and self.retry_at is not None:
            return f"failed: {self.error}; retrying at {self.retry_at:%H:%M:%S} UTC"
        return f"failed: {self.error}" + (
            f" (gave up after {self.attempts} attempts)" if self.attempts > 1 else ""
        )


class Channel(Protocol):
    """One kind of delivery."""

    def send(self, payload: dict[str, Any], settings: Settings) -> str | None:
        """Deliver, with no database at hand; raise SendFailed to say why not. May return
        a short detail for the record."""

    def record(self, session: Session, item: OutboxItem, outcome: Outcome) -> None:
        """Write the outcome where people look (the ticket history, the domain's row)."""


class LoadingChannel(Channel, Protocol):
    """A channel that needs something from the database to send (the PSA connection):
    `load` runs in the claiming transaction, `send_with` gets what it returned."""

    def load(self, session: Session, settings: Settings) -> Any: ...

    def send_with(self, payload: dict[str, Any], settings: Settings, loaded: Any) -> str | None: ...


def channel(kind: str) -> Channel:
    module = importlib.import_module(CHANNELS[kind])
    found: Channel = module.CHANNEL
    return found


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min ... doubling up to an hour between tries."""
    wait: timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(wait, LONGEST_WAIT)


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    ticket_id: int | None,
    settings: Settings,
) -> OutboxItem:
    """Add a delivery to the caller's transaction; it is sent once that commits.

    `settings` are those the immediate attempt uses (saved Settings-page values win over
    them, as always); retries use the sending process's own.
    """
    if kind not in CHANNELS:
        raise ValueError(f"unknown outbox kind {kind!r}")
    now = utcnow()
    item = OutboxItem(
        kind=kind, ticket_id=ticket_id, payload=payload, created_at=now, next_attempt_at=now
    )
    session.add(item)
    session.flush()
    ids: list[int] | None = session.info.get(_PENDING_IDS)
    if ids is None:
        ids = session.info[_PENDING_IDS] = []
        after_commit(session, lambda db: _deliver_committed(db, settings, ids))
    ids.append(item.id)
    return item


def _deliver_committed(db: Database, settings: Settings, ids: list[int]) -> None:
    deliver_due(db, settings, ids=sorted(set(ids)))


def deliver_due(
    db: Database,
    settings: Settings,
    *,
    ids: list[int] | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> dict[int, Outcome]:
    """Send pending items: those named in `ids` at once, else those due by `now`."""
    sender = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:64]
    claimed, effective, loaded = _claim(db, settings, sender, ids, limit, now or utcnow())
    outcomes: dict[int, Outcome] = {}
    for item_id, kind, payload in claimed:
        attempt = _attempt(kind, payload, effective, loaded)
        outcome = _record(db, item_id, sender, attempt, now or utcnow())
        if outcome is not None:
            outcomes[item_id] = outcome
    return outcomes


def _claim(
    db: Database,
    settings: Settings,
    sender: str,
    ids: list[int] | None,
    limit: int,
    now: datetime,
) -> tuple[list[tuple[int, str, dict[str, Any]]], Settings, dict[str, Any]]:
    with db.unit_of_work() as session:
        query = select(OutboxItem).where(
            OutboxItem.state == "pending",
            or_(OutboxItem.claimed_until.is_(None), OutboxItem.claimed_until < now),
        )
        if ids is not None:
            query = query.where(OutboxItem.id.in_(ids))
        else:
            query = query.where(OutboxItem.next_attempt_at <= now)
        query = query.order_by(OutboxItem.id).limit(limit)
        if db.dialect == "postgresql":
            # Several senders (the request's own, the worker, another host) never take one
            # item twice; they pass over rows another holds instead of waiting.
            query = query.with_for_update(skip_locked=True)
        items = list(session.scalars(query))
        for item in items:
            item.claimed_by, item.claimed_until = sender, now + LEASE
        claimed = [(i.id, i.kind, dict(i.payload)) for i in items]
        effective = effective_settings(session, settings) if items else settings
        loaded = {
            kind: found.load(session, effective)
            for kind in {i.kind for i in items}
            if hasattr(found := channel(kind), "load")
        }
    return claimed, effective, loaded


# (error, permanent, detail, retry_after)
Attempt = tuple[str | None, bool, str | None, timedelta | None]


def _attempt(
    kind: str, payload: dict[str, Any], settings: Settings, loaded: dict[str, Any]
) -> Attempt:
    try:
        found = channel(kind)
        if kind in loaded:
            detail = cast(LoadingChannel, found).send_with(payload, settings, loaded[kind])
        else:
            detail = found.send(payload, settings)
    except SendFailed as exc:
        return exc.reason[:MAX_ERROR], exc.permanent, None, exc.retry_after
    except Exception as exc:  # a broken plugin or library must not lose the record
        log.exception("outbox %s delivery raised", kind)
        return f"{type(exc).__name__}: {exc}"[:MAX_ERROR], False, None, None
    return None, False, detail, None


def _record(
    db: Database, item_id: int, sender: str, attempt: Attempt, now: datetime
) -> Outcome | None:
    error, permanent, detail, retry_after = attempt
    with db.unit_of_work() as session:
        item = session.scalar(select(OutboxItem).where(OutboxItem.id == item_id).with_for_update())
        if item is None or item.claimed_by != sender:
            return None  # taken over after the lease ran out; the other sender records it
        item.attempts += 1
        item.claimed_by = item.claimed_until = None
        if error is None:
            item.state, item.delivered_at, item.last_error = "delivered", now, None
            item.next_attempt_at = None
            outcome = Outcome("delivered", item.attempts, detail=detail)
        elif permanent or item.attempts >= MAX_ATTEMPTS:
            item.state, item.last_error, item.next_attempt_at = "failed", error, None
            outcome = Outcome("failed", item.attempts, error)
        else:
            wait = max(backoff(item.attempts), retry_after or timedelta(0))
            item.last_error, item.next_attempt_at = error, now + wait
            outcome = Outcome("retrying", item.attempts, error, item.next_attempt_at)
        channel(item.kind).record(session, item, outcome)
    return outcome


def outcome_of(item: OutboxItem) -> Outcome:
    """The item's state as an outcome; "pending" when it has not been tried yet."""
    if item.state == "pending" and item.attempts:
        return Outcome("retrying", item.attempts, item.last_error, item.next_attempt_at)
    return Outcome(item.state, item.attempts, item.last_error, item.next_attempt_at)


def outcome_in(session: Session, item_id: int) -> Outcome | None:
    """Where a committed item stands now (after the request's own attempt), read in the unit
    of work the caller has open: on SQLite a second one would wait for the lock it holds."""
    item = session.get(OutboxItem, item_id)
    return outcome_of(item) if item is not None else None


def list_items(
    session: Session, *, state: str | None = None, ticket_id: int | None = None, limit: int = 100
) -> list[OutboxItem]:
    query = select(OutboxItem).order_by(OutboxItem.id.desc()).limit(limit)
    if state is not None:
        query = query.where(OutboxItem.state == state)
    if ticket_id is not None:
        query = query.where(OutboxItem.ticket_id == ticket_id)
    return list(session.scalars(query))


def item_dict(item: OutboxItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "ticket_id": item.ticket_id,
        "state": item.state,
        "attempts": item.attempts,
        "created_at": item.created_at.isoformat(),
        "next_attempt_at": item.next_attempt_at.isoformat() if item.next_attempt_at else None,
        "delivered_at": item.delivered_at.isoformat() if item.delivered_at else None,
        "last_error": item.last_error,
    }
