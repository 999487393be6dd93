"""Opening a ticket (store it, suggest a runbook and attach it if sure), running it, and
resolving it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.escalation.service import refresh_escalation
from franchise.messages.service import AutoSend, send_resolved_message
from franchise.settings import Settings
from franchise.suggest.index import Suggestion
from franchise.suggest.service import match as suggest_match
from franchise.tickets.attachment import opening_choice
from franchise.tickets.lifecycle import DoneList, resolve_ticket
from franchise.tickets.models import Ticket
from franchise.tickets.service import create_ticket


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
    """Store a ticket; its best runbook is attached only when the suggestion is confident
    enough (suggest.calibration), otherwise kept on the ticket as an offer."""
    match = suggest_match(session, f"{title}\n{body}")
    choice = opening_choice(match, category)
    ticket = create_ticket(
        session,
        title=title,
        body=body,
        client=client,
        priority=priority,
        source=source,
        external_id=external_id,
        actor=actor,
        created_at=created_at,
        requester=requester,
        category=choice.category,
        category_by_hand=choice.category_by_hand,
        runbook_key=choice.runbook_key,
        runbook_source=choice.runbook_source,
        suggested_runbook_key=choice.suggested_runbook_key,
        suggestion_confidence=choice.suggestion_confidence,
    )
    refresh_escalation(session, ticket, actor=actor)
    return ticket, match.suggestions


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
