"""Opening a ticket: store it, suggest a runbook and attach the best one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.escalation.service import refresh_escalation
from franchise.runbooks import service as runbooks
from franchise.runbooks.engine import RunState
from franchise.runbooks.models import Runbook, RunbookRun
from franchise.suggest.index import Suggestion
from franchise.suggest.service import suggest
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


def begin_run(
    session: Session,
    runbook: Runbook,
    *,
    ticket: Ticket | None,
    actor: Staff | None,
    inputs: dict[str, str] | None = None,
) -> RunbookRun:
    """Start a runbook run; the ticket's escalation answer is brought up to date."""
    run = runbooks.start_run(session, runbook, ticket=ticket, actor=actor, inputs=inputs)
    if ticket is not None:
        refresh_escalation(session, ticket, actor=actor)
    return run


def record_answer(
    session: Session,
    run: RunbookRun,
    *,
    step: str,
    reply: str,
    note: str | None = None,
    actor: Staff | None,
) -> RunState:
    """Answer a step; an outcome can change whether the ticket may escalate, so refresh it."""
    state = runbooks.answer_run(session, run, step=step, reply=reply, note=note, actor=actor)
    if run.ticket_id is not None:
        ticket = session.get(Ticket, run.ticket_id)
        assert ticket is not None
        refresh_escalation(session, ticket, actor=actor)
    return state
