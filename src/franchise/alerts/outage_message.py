"""An alert storm opens an outage ticket: the client hears of it at once.

Alert correlation (alerts.outages) opens the ticket; this sends the client the
template of the `outage` stage (a runbook's override first), through the outbox, so the
e-mail goes only once the ticket is committed. A message that cannot be sent (no contact
with an address, SMTP not set up, a template that does not render) never fails the alerts:
the reason is written in the ticket's history instead.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from franchise.errors import FranchiseError
from franchise.messages.models import TicketMessage
from franchise.messages.service import send_message
from franchise.people.notices import settings_of
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note

STAGE = "outage"


def outage_opened(session: Session, ticket: Ticket) -> TicketMessage | None:
    """Queue the outage message to the client's contact; None (and a note) when it cannot
    be sent."""
    try:
        # The savepoint keeps a refusal from leaving part of a message behind.
        with session.begin_nested():
            message = send_message(
                session, ticket, template=STAGE, by=None, settings=settings_of(session)
            )
    except FranchiseError as exc:
        add_note(
            session,
            ticket,
            actor=None,
            kind="message_skipped",
            note=f"Outage message not sent: {exc.message}",
        )
        return None
    add_note(
        session,
        ticket,
        actor=None,
        kind="message_queued",
        note=f"Outage message queued for {message.to_address}: {message.subject}",
    )
    return message
