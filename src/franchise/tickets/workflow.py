"""Opening a ticket (store it, suggest and attach a runbook), running it, and resolving it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.escalation.service import refresh_escalation
from franchise.messages.service import AutoSend, send_resolved_message
from franchise.settings import Settings
from franchise.suggest.index import Suggestion
from franchise.suggest.service import suggest
from franchise.tickets.lifecycle import DoneList, resolve_ticket
from franchise.tickets.models import Ticket
from franchise.tickets.service import create_ticket

# Below this combined score the best match is a guess; the ticket stays unclassified.
ATTACH_THRESHOLD = 0.2


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
) -> tuple[Ticket, list[Suggestion]]:
    suggestions = suggest(session, f"{title}\n{body}")
    runbook_key = None
    if category is None and suggestions and suggestions[0].score >= ATTACH_THRESHOLD:
        category, runbook_key = suggestions[0].category, suggestions[0].key
    elif category is not None:
        runbook_key = next((s.key for s in suggestions if s.category == category), None)
    ticket = create_ticket(
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
        runbook_key=runbook_key,
    )
    refresh_escalation(session, ticket, actor=actor)
    return ticket, suggestions


def resolve(
    session: Session,
    ticket: Ticket,
    *,
    by: Staff,
    settings: Settings,
    override_reason: str | None = None,
) -> tuple[DoneList, AutoSend]:
    """Resolve the ticket, then send the client the resolved message if the organisation
    sends it on resolve. The message cannot undo the resolve: `AutoSend` says what happened."""
    done = resolve_ticket(session, ticket, by=by, override_reason=override_reason)
    return done, send_resolved_message(session, ticket, by=by, settings=settings)
