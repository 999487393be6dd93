"""Removing a client contact: the tickets it requested keep a line saying who it was."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.clients.models import ClientContact
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note


def remove_contact(session: Session, contact: ClientContact) -> list[int]:
    """Delete a contact; each ticket it requested loses its requester and gets a history
    line naming who it was. Returns those tickets' numbers."""
    who = contact.name + (f" <{contact.email}>" if contact.email else "")
    tickets = list(session.scalars(select(Ticket).where(Ticket.requester_id == contact.id)))
    for ticket in tickets:
        ticket.requester_id = None
        note = f"Requester {who} was removed from the client's contacts"
        add_note(session, ticket, actor=None, kind="requester_removed", note=note)
    session.delete(contact)
    session.flush()
    return [t.id for t in tickets]
