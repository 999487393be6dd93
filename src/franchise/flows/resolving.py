"""A ticket is resolved: its done list is checked, then the client may be told."""

from __future__ import annotations

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.messages.service import AutoSend, send_resolved_message
from franchise.settings import Settings
from franchise.tickets.lifecycle import DoneList, resolve_ticket
from franchise.tickets.models import Ticket


def resolve(
    session: Session,
    ticket: Ticket,
    *,
    by: Staff,
    settings: Settings,
    override_reason: str | None = None,
    skip_reason: str | None = None,
) -> tuple[DoneList, AutoSend]:
    """Resolve the ticket, then send the client the resolved message if the organisation
    sends it on resolve. The message cannot undo the resolve: `AutoSend` says what happened."""
    done = resolve_ticket(
        session, ticket, by=by, override_reason=override_reason, skip_reason=skip_reason
    )
    return done, send_resolved_message(session, ticket, by=by, settings=settings)
