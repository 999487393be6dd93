"""A ticket is opened: stored with the runbook its text suggests, and given its escalation
answer at once, so the runbook-first gate holds from the first minute."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.escalation.service import refresh_escalation
from franchise.suggest.index import Suggestion
from franchise.tickets.attachment import create_with_runbook
from franchise.tickets.models import Ticket


def open_ticket(
    session: Session,
    *,
    title: str,
    body: str = "",
    client: str | int | None = None,
    category: str | None = None,
    priority: str = "normal",
    source: str = "web",
    external_id: str | None = None,
    actor: Staff | None = None,
    created_at: datetime | None = None,
    requester: str | int | None = None,
) -> tuple[Ticket, list[Suggestion]]:
    """Store a ticket (tickets.attachment.create_with_runbook), then check its escalation."""
    ticket, suggestions = create_with_runbook(
        session,
        title=title,
        body=body,
        client=client,
        category=category,
        priority=priority,
        source=source,
        external_id=external_id,
        actor=actor,
        created_at=created_at,
        requester=requester,
    )
    refresh_escalation(session, ticket, actor=actor)
    return ticket, suggestions
