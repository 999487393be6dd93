"""The webhook outbox: what to tell the PSA, written in the same transaction as the change.

`record_ticket_change` is called from `tickets.service.change_ticket`, the one place every
status, level and custom-field change goes through (escalation, lifecycle, approvals, the
API, imports). An explicit call there, rather than a session-wide flush listener, keeps the
behaviour visible where tickets change and adds rows only from ordinary code, never from
inside a flush.

An event is written when the ticket's status, level or `escalation_allowed` differs from
what the last event for that ticket said; an escalation check that leaves the answer as it
was writes nothing. The first event for a ticket has `old: null` for what was never sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.db import utcnow
from franchise.psa.models import WebhookEvent
from franchise.tickets.models import Ticket

EVENT = "ticket.changed"
WATCHED_FIELDS = frozenset({"status", "level", "custom_fields"})
ESCALATION_FIELD = "escalation_allowed"
ESCALATE_TAG = "escalate:"
TRACKED = ("status", "level", ESCALATION_FIELD)


def snapshot(ticket: Ticket) -> dict[str, Any]:
    """What the PSA is told about a ticket."""
    fields = ticket.custom_fields or {}
    escalate_to = next(
        (t[len(ESCALATE_TAG) :] for t in ticket.tags or [] if t.lower().startswith(ESCALATE_TAG)),
        None,
    )
    return {
        "id": ticket.id,
        "source": ticket.source,
        "external_id": ticket.external_id,
        "title": ticket.title,
        "client_id": ticket.client_id,
        "category": ticket.category,
        "priority": ticket.priority,
        "status": ticket.status,
        "level": ticket.level,
        ESCALATION_FIELD: fields.get(ESCALATION_FIELD),
        "escalate_to": escalate_to,
        "runbook_key": ticket.runbook_key,
    }


def record_ticket_change(
    session: Session, ticket: Ticket, changed_fields: Iterable[str]
) -> WebhookEvent | None:
    """Queue a `ticket.changed` event when status, level or escalation_allowed changed."""
    if not WATCHED_FIELDS.intersection(changed_fields):
        return None
    now = ticket.updated_at or utcnow()
    current = snapshot(ticket)
    last = _last_sent(session, ticket.id)
    changes = {
        name: {"old": last.get(name), "new": current[name]}
        for name in TRACKED
        if last.get(name) != current[name]
    }
    if not changes:
        return None
    event_id = str(uuid.uuid4())
    event = WebhookEvent(
        event_id=event_id,
        ticket_id=ticket.id,
        payload={
            "event_id": event_id,
            "event": EVENT,
            "occurred_at": now.isoformat(),
            "changes": changes,
            "ticket": current,
        },
        created_at=now,
        next_attempt_at=now,
    )
    session.add(event)
    return event


def _last_sent(session: Session, ticket_id: int) -> dict[str, Any]:
    """The ticket as the newest queued event described it ({} when there is none)."""
    pending = [e for e in session.new if isinstance(e, WebhookEvent) and e.ticket_id == ticket_id]
    if pending:
        return dict(pending[-1].payload["ticket"])
    # No autoflush: the caller may be half-way through changing the ticket.
    with session.no_autoflush:
        payload = session.scalar(
            select(WebhookEvent.payload)
            .where(WebhookEvent.ticket_id == ticket_id)
            .order_by(WebhookEvent.id.desc())
            .limit(1)
        )
    return dict(payload["ticket"]) if payload else {}
