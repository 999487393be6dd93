"""Changing a ticket's requester by hand, and who may do it.

The requester is who client messages go to first and whose number the identity callback
reads, so a wrong one sends the client's mail to the wrong person. Changing it is kept to
the people answerable for the ticket: its assignee, L2 and the owner level, and the owner,
admins and service managers (who keep the client's contacts).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.clients.contacts import get_contact
from franchise.clients.models import Client, ClientContact
from franchise.errors import InvalidInput, PermissionDenied
from franchise.tickets.models import Ticket, TicketEvent
from franchise.tickets.service import set_requester

EDITOR_ROLES = ("owner", "admin", "service_manager")
EDITOR_LEVELS = ("L2", "owner")
MAX_NOTE = 5000


def may_change_requester(staff: Staff, ticket: Ticket) -> bool:
    return (
        staff.role in EDITOR_ROLES
        or staff.level in EDITOR_LEVELS
        or (ticket.assignee_id is not None and ticket.assignee_id == staff.id)
    )


def change_requester(
    session: Session,
    ticket: Ticket,
    ref: str | int | None,
    *,
    actor: Staff | None,
    note: str | None = None,
) -> TicketEvent | None:
    """Make a contact of the ticket's client (id, e-mail or name) its requester, or clear it
    with None. The history line names who changed it and from whom to whom; nothing is
    written when it is already that contact. `actor` None is the system (an import, the
    command line without --by), which the rule on who may change it does not bind."""
    if actor is not None and not may_change_requester(actor, ticket):
        raise PermissionDenied(
            f"only the ticket's assignee, L2, the owner, an admin or a service manager may "
            f"change the requester of ticket #{ticket.id}"
        )
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidInput(f"the note is {len(note)} characters; the limit is {MAX_NOTE}")
    contact = _contact_of_client(session, ticket, ref)
    new_id = contact.id if contact is not None else None
    return set_requester(session, ticket, new_id, actor=actor, note=(note or "").strip() or None)


def _contact_of_client(
    session: Session, ticket: Ticket, ref: str | int | None
) -> ClientContact | None:
    text = "" if ref is None else str(ref).strip()
    if not text:
        return None
    client = session.get(Client, ticket.client_id) if ticket.client_id is not None else None
    if client is None:
        raise InvalidInput(f"ticket #{ticket.id} has no client; set its client first")
    if text.isdecimal() and len(text) < 10:
        # An id of another client's contact gets a refusal that says whose it is, rather
        # than "no such contact": the caller picked a real person, at the wrong company.
        other = session.get(ClientContact, int(text))
        if other is not None and other.client_id != client.id:
            owner = session.get(Client, other.client_id)
            whose = owner.name if owner is not None else "another client"
            raise InvalidInput(
                f"contact #{other.id} ({other.name}) belongs to {whose}, not to "
                f"{client.name}, the client of ticket #{ticket.id}"
            )
    return get_contact(session, client, text)
