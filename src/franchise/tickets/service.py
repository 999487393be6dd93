"""Tickets: create, find, list, and change with an append-only history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.clients.contacts import contact_by_id, get_contact
from franchise.clients.models import ClientContact
from franchise.clients.service import get_client
from franchise.db import MAX_ID, utcnow
from franchise.errors import Conflict, InvalidInput, NotFound
from franchise.psa.connectors import outbound as psa_push
from franchise.psa.outbox import record_ticket_change
from franchise.runbooks.definition import CATEGORIES
from franchise.tickets.models import PRIORITIES, SOURCES, STATUSES, Ticket, TicketEvent


def create_ticket(
    session: Session,
    *,
    title: str,
    body: str = "",
    client: str | int | None = None,
    category: str | None = None,
    priority: str = "normal",
    source: str = "web",
    external_id: str | None = None,
    tags: Sequence[str] = (),
    actor: Staff | None = None,
    created_at: datetime | None = None,
    runbook_key: str | None = None,
    runbook_source: str | None = None,
    category_by_hand: bool | None = None,
    suggested_runbook_key: str | None = None,
    suggestion_confidence: float | None = None,
    requester: str | int | None = None,
) -> Ticket:
    """A new ticket. A category given here counts as set by hand unless `category_by_hand`
    says otherwise (it follows a runbook attached from a suggestion). The requester is a
    contact of the client (id, e-mail or name); a contact id alone also names the client."""
    if not title.strip():
        raise InvalidInput("a ticket needs a title")
    if priority not in PRIORITIES:
        raise InvalidInput(f"unknown priority '{priority}' (use {', '.join(PRIORITIES)})")
    if source not in SOURCES:
        raise InvalidInput(f"unknown source '{source}' (use {', '.join(SOURCES)})")
    if category is not None and category not in CATEGORIES:
        raise InvalidInput(f"unknown category '{category}' (use {', '.join(CATEGORIES)})")
    external_id = (external_id or "").strip() or None
    if external_id is not None and session.scalar(
        select(Ticket.id).where(Ticket.source == source, Ticket.external_id == external_id)
    ):
        # A PSA or integration retrying a create must not get a second ticket (or a 500).
        raise Conflict(f"a ticket from {source} with external id '{external_id}' already exists")
    client_id = get_client(session, client).id if client not in (None, "") else None
    contact = find_requester(session, client_id, requester)
    if contact is not None:
        client_id = contact.client_id
    when = created_at or utcnow()
    ticket = Ticket(
        title=title.strip(),
        body=body,
        client_id=client_id,
        requester_id=contact.id if contact is not None else None,
        category=category,
        priority=priority,
        source=source,
        external_id=external_id,
        tags=list(tags),
        custom_fields={},
        created_at=when,
        updated_at=when,
        runbook_key=runbook_key,
        runbook_source=runbook_source,
        category_by_hand=category is not None if category_by_hand is None else category_by_hand,
        suggested_runbook_key=suggested_runbook_key,
        suggestion_confidence=suggestion_confidence,
    )
    session.add(ticket)
    session.flush()
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            at=when,
            actor_id=actor.id if actor else None,
            kind="created",
            note=f"opened from {source}",
        )
    )
    return ticket


def find_requester(
    session: Session, client_id: int | None, ref: str | int | None
) -> ClientContact | None:
    """The contact a requester reference names: of the client when there is one, else by id."""
    text = "" if ref is None else str(ref).strip()
    if not text:
        return None
    if client_id is not None:
        return get_contact(session, get_client(session, client_id), text)
    if text.isdecimal():
        return contact_by_id(session, int(text))
    raise InvalidInput(f"requester '{text}' needs the ticket's client (or give the contact's id)")


def set_requester(
    session: Session,
    ticket: Ticket,
    ref: str | int | None,
    *,
    actor: Staff | None,
    note: str | None = None,
) -> TicketEvent | None:
    """Name the affected user (a contact of the ticket's client), or clear it with None;
    the history says who it was and who it is now."""
    contact = find_requester(session, ticket.client_id, ref)
    if contact is not None and ticket.client_id is None:
        raise InvalidInput(f"ticket #{ticket.id} has no client; set its client first")
    new_id = contact.id if contact is not None else None
    if new_id == ticket.requester_id:
        return None
    old = session.get(ClientContact, ticket.requester_id) if ticket.requester_id else None
    ticket.requester_id = new_id
    ticket.updated_at = utcnow()
    event = TicketEvent(
        ticket_id=ticket.id,
        actor_id=actor.id if actor else None,
        kind="changed",
        field="requester",
        old_value=old.name if old is not None else None,
        new_value=contact.name if contact is not None else None,
        note=note,
    )
    session.add(event)
    return event


def get_ticket(session: Session, ticket_id: int | str) -> Ticket:
    text = str(ticket_id).strip().lstrip("#")
    if not text.isdecimal():
        raise InvalidInput(f"ticket '{ticket_id}' is not a ticket number")
    ticket = session.get(Ticket, int(text)) if int(text) <= MAX_ID else None
    if ticket is None:
        raise NotFound(f"no ticket #{text}")
    return ticket


# Queue views: who the ticket is with, or what it waits on.
VIEWS = ("all", "mine", "unassigned", "approval", "escalated")
CLOSED = ("resolved", "closed")


def change_ticket(
    session: Session,
    ticket: Ticket,
    *,
    actor: Staff | None,
    note: str | None = None,
    at: datetime | None = None,
    **changes: Any,
) -> list[TicketEvent]:
    """Apply field changes, writing one history event per field that really changed."""
    when = at or utcnow()
    events = []
    for field, new in changes.items():
        if not hasattr(Ticket, field):
            raise InvalidInput(f"tickets have no field '{field}'")
        allowed = {"status": STATUSES, "priority": PRIORITIES}.get(field)
        if allowed is not None and new not in allowed:
            raise InvalidInput(f"unknown {field} '{new}' (use {', '.join(allowed)})")
        old = getattr(ticket, field)
        if old == new:
            continue
        setattr(ticket, field, new)
        event = TicketEvent(
            ticket_id=ticket.id,
            at=when,
            actor_id=actor.id if actor else None,
            kind="changed",
            field=field,
            old_value=None if old is None else str(old),
            new_value=None if new is None else str(new),
            note=note,
        )
        session.add(event)
        events.append(event)
    if any(e.field == "client_id" for e in events):
        events.extend(_drop_foreign_requester(session, ticket, actor, when))
    if events:
        ticket.updated_at = when
        changed = [e.field for e in events if e.field]
        record_ticket_change(session, ticket, changed)
        psa_push.ticket_changed(session, ticket, changed, note)
    return events


def _drop_foreign_requester(
    session: Session, ticket: Ticket, actor: Staff | None, when: datetime
) -> list[TicketEvent]:
    """A ticket moved to another client keeps no requester of the old one: messages go to
    the requester first, and another company's contact must never receive them."""
    if ticket.requester_id is None:
        return []
    contact = session.get(ClientContact, ticket.requester_id)
    if contact is not None and contact.client_id == ticket.client_id:
        return []
    ticket.requester_id = None
    event = TicketEvent(
        ticket_id=ticket.id,
        at=when,
        actor_id=actor.id if actor else None,
        kind="changed",
        field="requester",
        old_value=contact.name if contact is not None else None,
        new_value=None,
        note="the requester is a contact of the previous client",
    )
    session.add(event)
    return [event]


def add_note(
    session: Session, ticket: Ticket, *, actor: Staff | None, kind: str, note: str
) -> TicketEvent:
    event = TicketEvent(
        ticket_id=ticket.id, actor_id=actor.id if actor else None, kind=kind, note=note
    )
    session.add(event)
    ticket.updated_at = utcnow()
    return event


def history(session: Session, ticket: Ticket) -> list[TicketEvent]:
    return list(
        session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id)
            .order_by(TicketEvent.at, TicketEvent.id)
        )
    )


def client_tickets(session: Session, client_id: int, *, limit: int = 50) -> list[Ticket]:
    """A client's tickets for its page: open ones first, then newest first."""
    still_open = Ticket.status.not_in(CLOSED)
    return list(
        session.scalars(
            select(Ticket)
            .where(Ticket.client_id == client_id)
            .order_by(still_open.desc(), Ticket.created_at.desc(), Ticket.id.desc())
            .limit(limit)
        )
    )


def runbook_ticket_stats(session: Session) -> dict[str, tuple[int, int]]:
    """Per runbook key: (tickets that used it, how many of them escalated).

    A ticket counts as escalated when its level was ever changed, it is above L1, or its
    status is `escalated` (imported that way) — as for stale runbooks (lessons.stale).
    """
    level_changed = select(TicketEvent.ticket_id).where(TicketEvent.field == "level")
    escalated = or_(
        Ticket.status == "escalated", Ticket.level != "L1", Ticket.id.in_(level_changed)
    )
    rows = session.execute(
        select(Ticket.runbook_key, func.count(), func.sum(case((escalated, 1), else_=0)))
        .where(Ticket.runbook_key.is_not(None))
        .group_by(Ticket.runbook_key)
    )
    return {str(key): (int(total), int(esc or 0)) for key, total, esc in rows}
