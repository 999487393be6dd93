"""Ticket output shared by the CLI and the API."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from franchise.clients.contacts import contact_dict
from franchise.clients.models import Client, ClientContact
from franchise.tickets.models import Ticket
from franchise.tickets.notes import attachment_dict, attachments, minutes_worked
from franchise.tickets.schemas import TicketEventRead, TicketRead
from franchise.tickets.service import history


def ticket_dict(session: Session, ticket: Ticket, *, with_history: bool = False) -> dict[str, Any]:
    data = TicketRead.model_validate(ticket).model_dump(mode="json")
    client = session.get(Client, ticket.client_id) if ticket.client_id else None
    data["client"] = client.name if client else None
    requester = session.get(ClientContact, ticket.requester_id) if ticket.requester_id else None
    data["requester"] = contact_dict(requester) if requester else None
    data["minutes_worked"] = minutes_worked(session, ticket)
    if with_history:
        data["attachments"] = [attachment_dict(a) for a in attachments(session, ticket)]
        data["history"] = [
            TicketEventRead.model_validate(e).model_dump(mode="json")
            for e in history(session, ticket)
        ]
    return data
