"""Opening a ticket (store it, suggest a runbook and attach it if sure), running it, and
resolving it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.approvals.models import ApprovalRequest
from franchise.approvals.service import request_for_action_step
from franchise.errors import InvalidInput, Refused
from franchise.escalation.service import refresh_escalation
from franchise.messages.service import AutoSend, send_resolved_message
from franchise.runbooks import service as runbooks
from franchise.runbooks.engine import RunState
from franchise.runbooks.models import Runbook, RunbookRun
from franchise.settings import Settings
from franchise.suggest.index import Suggestion
from franchise.suggest.service import match as suggest_match
from franchise.tickets.attachment import attach_for_run, opening_choice
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
        category=choice.category,
        category_by_hand=choice.category_by_hand,
        runbook_key=choice.runbook_key,
        runbook_source=choice.runbook_source,
        suggested_runbook_key=choice.suggested_runbook_key,
        suggestion_confidence=choice.suggestion_confidence,
    )
    refresh_escalation(session, ticket, actor=actor)
    return ticket, match.suggestions


def begin_run(
    session: Session,
    runbook: Runbook,
    *,
    ticket: Ticket | None,
    actor: Staff | None,
    inputs: dict[str, str] | None = None,
) -> RunbookRun:
    """Start a runbook run, which attaches the runbook to the ticket; the ticket's escalation
    answer is brought up to date."""
    run = runbooks.start_run(session, runbook, ticket=ticket, actor=actor, inputs=inputs)
    if ticket is not None:
        attach_for_run(session, ticket, runbook.key, actor=actor)
    _ask_approval_if_action(session, run, runbooks.run_state(session, run), actor)
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
    """Answer a step; an outcome can change whether the ticket may escalate, so refresh it.

    An action step whose approval is still pending (or was denied) cannot be answered: the
    action must not be done, or reported done, before someone with the boundary approves it.
    """
    _require_approval(session, run, step)
    state = runbooks.answer_run(session, run, step=step, reply=reply, note=note, actor=actor)
    _ask_approval_if_action(session, run, state, actor)
    if run.ticket_id is not None:
        ticket = session.get(Ticket, run.ticket_id)
        assert ticket is not None
        refresh_escalation(session, ticket, actor=actor)
    return state


def step_back(session: Session, ticket: Ticket, *, actor: Staff | None) -> RunState:
    """Retract the last answer of the ticket's run and bring the escalation answer up to date."""
    run = runbooks.latest_run(session, ticket)
    if run is None:
        raise InvalidInput(f"ticket #{ticket.id} has no runbook run to step back in")
    state = runbooks.back_run(session, run)
    refresh_escalation(session, ticket, actor=actor)
    return state


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


def _ask_approval_if_action(
    session: Session, run: RunbookRun, state: RunState, actor: Staff | None
) -> None:
    """An action step with a cost, time or impact asks for approval as soon as the run reaches
    it: inside the runner's boundary it is approved at once and logged."""
    if state.step.kind != "action":
        return
    ticket = session.get(Ticket, run.ticket_id) if run.ticket_id is not None else None
    if ticket is None or ticket.status not in ("resolved", "closed"):
        request_for_action_step(session, run=run, step=state.step, actor=actor)


def _require_approval(session: Session, run: RunbookRun, step: str) -> None:
    latest = session.scalar(
        select(ApprovalRequest)
        .where(ApprovalRequest.run_id == run.id, ApprovalRequest.step_id == step)
        .order_by(ApprovalRequest.id.desc())
        .limit(1)
    )
    if latest is not None and latest.status in ("pending", "denied"):
        waiting = (
            f"waits for {latest.approver_level}" if latest.status == "pending" else "was denied"
        )
        raise Refused(
            f"step '{step}' needs approval first: request #{latest.id} {waiting} ({latest.reason.splitlines()[0]})"
        )
