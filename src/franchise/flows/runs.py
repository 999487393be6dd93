"""A runbook run moves: it starts, takes an answer, steps back, or reaches an ending.

Each move brings what depends on it up to date: the approval of an action step, client
facts the answer was saved to, the ticket's escalation answer, and the ticket's priority
when an emergency ending is reached.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.approvals.service import latest_step_approval, request_for_action_step
from franchise.clients.contacts import phones
from franchise.clients.facts import facts_of, set_fact
from franchise.clients.models import Client, ClientContact
from franchise.db import utcnow
from franchise.errors import Conflict, InvalidInput, NotFound, Refused
from franchise.escalation.service import refresh_escalation
from franchise.psa.connectors import outbound as psa_push
from franchise.runbooks import service as runbooks
from franchise.runbooks.definition import is_way_out
from franchise.runbooks.engine import RunState
from franchise.runbooks.models import Runbook, RunbookRun
from franchise.tickets.attachment import attach_for_run
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note, change_ticket

PROFILE_NOTE = "answered from the client profile"
ACTIVE = "in_progress"
READY = "ready_to_resolve"
# Statuses a resolve ending moves on to "ready to resolve" (escalated or waiting stay).
OPEN_BEFORE_READY = ("new", "in_progress")
# A run answers at most this many steps from the profile in a row (facts cannot loop, but
# a badly written runbook could lead from one fact check back to another).
MAX_PROFILE_ANSWERS = 30


def begin_run(
    session: Session,
    runbook: Runbook,
    *,
    ticket: Ticket | None,
    actor: Staff | None,
    inputs: dict[str, str] | None = None,
) -> RunbookRun:
    """Start a runbook run. A ticket has one run under way at a time (every interface gets
    the same answer); the run answers what the client profile knows."""
    if ticket is not None:
        current = runbooks.latest_run(session, ticket)
        if current is not None and current.outcome is None:
            row = session.get(Runbook, current.runbook_id)
            key = row.key if row else "?"
            raise InvalidInput(
                f"ticket #{ticket.id} already has run {current.id} of '{key}' under way at "
                f"step '{current.current_step}'; continue it (or step back) instead of starting "
                "another"
            )
    run = runbooks.start_run(session, runbook, ticket=ticket, actor=actor, inputs=inputs)
    if ticket is not None:
        _take_ticket(session, ticket, runbook, actor)
    state = _answer_from_profile(session, run, runbooks.run_state(session, run), actor)
    _after_move(session, run, state, actor)
    return run


def record_answer(
    session: Session,
    run: RunbookRun,
    *,
    step: str,
    reply: str,
    note: str | None = None,
    actor: Staff | None,
    save_fact: bool = False,
) -> RunState:
    """Answer a step.

    An action step whose approval is still pending (or was denied) cannot be answered: the
    action must not be done, or reported done, before someone with the boundary approves it.
    With `save_fact`, the answer to a check that names a client fact is saved to the
    ticket's client profile.
    """
    _refuse_repeat(session, run, step)
    _require_approval(session, run, step)
    state = runbooks.answer_run(session, run, step=step, reply=reply, note=note, actor=actor)
    answered = state.runbook.steps[step]
    _tell_psa(session, run, state, answered.text, note, actor)
    if save_fact and answered.fact:
        label = state.path[-1].answer
        if is_way_out(label):
            # "None of these / not sure" says nothing about the client; saved, it would
            # answer the next ticket's check with a shrug.
            _not_saved(session, run, answered.fact, label, actor)
        else:
            _save_fact(session, run, answered.fact, label, actor)
    state = _answer_from_profile(session, run, state, actor)
    _after_move(session, run, state, actor)
    return state


def switch_run(
    session: Session, ticket: Ticket, runbook: Runbook, *, actor: Staff | None, reason: str
) -> RunbookRun:
    """Leave the run under way (an edge case says "this is really another problem") and start
    `runbook`; the old run stays on record as switched, with the reason."""
    why = reason.strip()
    if not why:
        raise InvalidInput("say why the runbook is switched (for example the edge case followed)")
    current = runbooks.latest_run(session, ticket)
    if current is not None and current.outcome is None:
        old = session.get(Runbook, current.runbook_id)
        current.outcome = "switched"
        current.outcome_step = current.current_step
        current.finished_at = utcnow()
        add_note(
            session,
            ticket,
            actor=actor,
            kind="run-switched",
            note=f"left '{old.key if old else '?'}' at '{current.current_step}' for "
            f"'{runbook.key}': {why}",
        )
        session.flush()
    return begin_run(session, runbook, ticket=ticket, actor=actor)


def step_back(session: Session, ticket: Ticket, *, actor: Staff | None) -> RunState:
    """Retract the last answer of the ticket's run (kept on record) and say so in the history."""
    run = runbooks.latest_run(session, ticket)
    if run is None:
        raise InvalidInput(f"ticket #{ticket.id} has no runbook run to step back in")
    steps = runbooks.run_steps(session, run)
    state = runbooks.back_run(session, run)
    if ticket.status == READY:
        change_ticket(
            session, ticket, actor=actor, note="the run stepped back from its ending", status=ACTIVE
        )
    if steps:
        add_note(
            session,
            ticket,
            actor=actor,
            kind="run-back",
            note=f"answer to '{steps[-1].step_id}' taken back ('{steps[-1].answer}')",
        )
    refresh_escalation(session, ticket, actor=actor)
    return state


def step_back_to(session: Session, ticket: Ticket, step: str, *, actor: Staff | None) -> RunState:
    """Step back until `step` is current again (its latest answer and every later one are
    taken back, each in the history): how an answer from the client profile is changed."""
    run = runbooks.latest_run(session, ticket)
    answered = [s.step_id for s in runbooks.run_steps(session, run)] if run else []
    if step not in answered:
        raise InvalidInput(f"step '{step}' has no answer in this run to change")
    # The latest answer to it: a step met twice (a retry loop) is changed where it was last.
    times = answered[::-1].index(step) + 1
    state = step_back(session, ticket, actor=actor)
    for _ in range(times - 1):
        state = step_back(session, ticket, actor=actor)
    return state


def runner_view(session: Session, run: RunbookRun) -> dict[str, Any]:
    """What every runner (web, CLI, API) shows: the run, its next step with the client
    profile's answer and any approval that blocks it, and the done list of its ending."""
    state = runbooks.run_state(session, run)
    data = state.to_dict()
    data.update(id=run.id, ticket_id=run.ticket_id)
    nxt = data.get("next")
    if isinstance(nxt, dict):
        step = state.step
        ticket = session.get(Ticket, run.ticket_id) if run.ticket_id is not None else None
        if step.fact:
            known = facts_of(session, ticket.client_id if ticket else None).get(step.fact)
            nxt["fact"] = {
                "key": step.fact,
                "value": known,
                "answer": _matching_label(state, known),
                "can_save": ticket is not None and ticket.client_id is not None,
            }
        if step.used_from == IDENTITY_BLOCK and ticket is not None:
            nxt["on_file"] = on_file(session, ticket)
        nxt["blocked_by"] = blocked_by(session, run, step.id)
    data["offer"] = _offer(session, run, state)
    return data


# The shared block whose steps call the requester back on the number on file.
IDENTITY_BLOCK = "verify-identity"


def on_file(session: Session, ticket: Ticket) -> dict[str, Any]:
    """The requester's numbers on file, for the identity callback (never the number they
    called from: only what the client's contact record holds)."""
    contact = session.get(ClientContact, ticket.requester_id) if ticket.requester_id else None
    if contact is None:
        return {
            "name": None,
            "phones": [],
            "text": "No requester on this ticket: set one to see the number on file.",
        }
    numbers = phones(contact)
    text = (
        f"Number on file for {contact.name}: {' or '.join(numbers)}"
        if numbers
        else f"No number on file for {contact.name}"
    )
    return {"name": contact.name, "phones": numbers, "text": text}


def _offer(session: Session, run: RunbookRun, state: RunState) -> dict[str, Any] | None:
    """What the ending asks of the technician next: escalate (with the client message that
    goes with it), or tick the ending's done list and resolve."""
    ticket = session.get(Ticket, run.ticket_id) if run.ticket_id is not None else None
    if ticket is None or ticket.status in ("resolved", "closed"):
        return None
    if state.outcome == "escalate" and state.level and ticket.level != state.level:
        return {
            "action": "escalate",
            "to": state.level,
            "emergency": state.emergency,
            "message_template": "escalated",
        }
    if state.outcome == "resolved":
        return {"action": "resolve", "done_when": list(state.done_items)}
    return None


def blocked_by(session: Session, run: RunbookRun, step: str) -> dict[str, Any] | None:
    """The approval a step waits on (pending) or was refused (denied), if any."""
    latest = latest_step_approval(session, run.id, step)
    if latest is None or latest.status not in ("pending", "denied"):
        return None
    return {
        "approval_id": latest.id,
        "level": latest.approver_level,
        "status": latest.status,
        "timeout_at": latest.timeout_at.isoformat() if latest.timeout_at else None,
    }


# --- inside a move ------------------------------------------------------------------------


def _tell_psa(
    session: Session,
    run: RunbookRun,
    state: RunState,
    question: str,
    note: str | None,
    actor: Staff | None,
) -> None:
    """A private note on the PSA ticket for each runbook answer."""
    ticket = session.get(Ticket, run.ticket_id) if run.ticket_id is not None else None
    if ticket is None or not state.path:
        return
    who = f" ({actor.name})" if actor is not None else ""
    text = f"Runbook {state.runbook.key}{who}: {question} -> {state.path[-1].answer}"
    psa_push.note(session, ticket, text + (f"\nNote: {note}" if note else ""))


def _take_ticket(session: Session, ticket: Ticket, runbook: Runbook, actor: Staff | None) -> None:
    """Starting a runbook on an unassigned ticket takes it: assigned and in progress. Running
    a runbook attaches it to the ticket."""
    changes: dict[str, Any] = {}
    if ticket.assignee_id is None and actor is not None:
        changes["assignee_id"] = actor.id
    if ticket.status == "new":
        changes["status"] = ACTIVE
    if changes:
        change_ticket(
            session, ticket, actor=actor, note=f"runbook '{runbook.key}' started", **changes
        )
    attach_for_run(session, ticket, runbook.key, actor=actor)


def _after_move(session: Session, run: RunbookRun, state: RunState, actor: Staff | None) -> None:
    """The ticket follows the run: an emergency ending makes it critical, a resolve ending
    makes it ready to resolve (the ending's done list is what is left)."""
    _ask_approval_if_action(session, run, state, actor)
    if run.ticket_id is None:
        return
    ticket = session.get(Ticket, run.ticket_id)
    if ticket is None:
        raise NotFound(f"runbook run {run.id} refers to ticket #{run.ticket_id}, which is gone")
    ending = f"runbook '{state.runbook.key}' reached '{state.current}'"
    if state.emergency and ticket.priority != "critical":
        change_ticket(
            session, ticket, actor=actor, note=f"emergency: {ending}", priority="critical"
        )
    if state.outcome == "resolved" and ticket.status in OPEN_BEFORE_READY:
        change_ticket(session, ticket, actor=actor, note=ending, status=READY)
    refresh_escalation(session, ticket, actor=actor)


def _answer_from_profile(
    session: Session, run: RunbookRun, state: RunState, actor: Staff | None
) -> RunState:
    """Answer each check the client profile knows, recording where the answer came from; the
    technician sees it and may step back to change it."""
    if run.ticket_id is None:
        return state
    ticket = session.get(Ticket, run.ticket_id)
    facts = facts_of(session, ticket.client_id if ticket else None)
    for _ in range(MAX_PROFILE_ANSWERS):
        step = state.step
        if state.finished or step.kind != "check" or not step.fact:
            return state
        label = _matching_label(state, facts.get(step.fact))
        if label is None:
            return state
        note = f"{PROFILE_NOTE} ({step.fact} = {facts[step.fact]})"
        state = runbooks.answer_run(session, run, step=step.id, reply=label, note=note, actor=actor)
    return state


def _matching_label(state: RunState, value: str | None) -> str | None:
    """The option the profile's value names; never a way out ("Other", "Not sure"), which
    is no fact about the client even if someone typed it."""
    if value is None or state.finished:
        return None
    wanted = value.strip().casefold()
    label = next((o for o in state.step.options if o.strip().casefold() == wanted), None)
    return None if label is None or is_way_out(label) else label


def _save_fact(
    session: Session, run: RunbookRun, key: str, value: str, actor: Staff | None
) -> None:
    ticket = session.get(Ticket, run.ticket_id) if run.ticket_id is not None else None
    client = session.get(Client, ticket.client_id) if ticket and ticket.client_id else None
    if ticket is None or client is None:
        raise InvalidInput("this ticket has no client, so the answer cannot be saved as a fact")
    set_fact(session, client, key, value, by=actor, source="runbook", ticket_id=ticket.id)
    add_note(
        session,
        ticket,
        actor=actor,
        kind="fact-saved",
        note=f"client profile: {key} = {value}",
    )


def _not_saved(
    session: Session, run: RunbookRun, key: str, label: str, actor: Staff | None
) -> None:
    ticket = session.get(Ticket, run.ticket_id) if run.ticket_id is not None else None
    if ticket is not None:
        note = f"client profile: {key} not saved ('{label}' is no fact about the client)"
        add_note(session, ticket, actor=actor, kind="fact-not-saved", note=note)


def _refuse_repeat(session: Session, run: RunbookRun, step: str) -> None:
    """Answering a step already answered is an error that says how to change it."""
    if step == run.current_step:
        return
    earlier = [s for s in runbooks.run_steps(session, run) if s.step_id == step]
    if earlier:
        raise Conflict(
            f"step '{step}' was already answered '{earlier[-1].answer}'; the run is at "
            f"'{run.current_step}'. To change an answer, step back (`franchise run KEY "
            f"--ticket N --back`, or Back in the runner) until that step is current"
        )


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
    latest = latest_step_approval(session, run.id, step)
    if latest is not None and latest.status in ("pending", "denied"):
        waiting = (
            f"waits for {latest.approver_level}" if latest.status == "pending" else "was denied"
        )
        raise Refused(
            f"step '{step}' needs approval first: request #{latest.id} {waiting} "
            f"({latest.reason.splitlines()[0]})"
        )
