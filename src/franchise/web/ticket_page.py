"""The technician's ticket page: runbook runner, escalation panel, approvals, client message,
done checklist, Ask the owner, lessons and the full history.

Every action is a form POST. htmx posts get the page's live panels back as out-of-band swaps
(so one answer updates the runner, the escalation panel and the history together); without
JavaScript the same form redirects back to the page, or shows it with the refusal.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.models import Staff
from franchise.accounts.service import get_staff, list_staff
from franchise.approvals.models import ApprovalRequest
from franchise.approvals.service import list_requests, request_approval
from franchise.ask.answer import STAGE_FOR_STATUS
from franchise.ask.service import ask_owner, pending_step
from franchise.clients.service import get_client
from franchise.contacts.models import REASONS
from franchise.drills.service import active_drill, window
from franchise.errors import Conflict, FranchiseError, InvalidInput
from franchise.escalation.service import (
    check_escalation,
    current_map,
    escalate_ticket,
    refusal_hint,
)
from franchise.lessons.service import add_lesson, list_lessons
from franchise.messages.definition import STAGES
from franchise.messages.service import (
    choose_template,
    load_templates,
    render_for_ticket,
    send_message,
)
from franchise.runbooks import service as runbooks
from franchise.runbooks.engine import RunState
from franchise.runbooks.models import RunbookRun
from franchise.suggest.service import suggest
from franchise.tickets import lifecycle, workflow
from franchise.tickets.models import STATUSES, Ticket, TicketEvent
from franchise.tickets.service import get_ticket, history
from franchise.web.auth import CurrentUser, check_csrf
from franchise.web.deps import DbSession
from franchise.web.sessions import SignedIn
from franchise.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)])
T = TypeVar("T")
Text = Annotated[str, Form(max_length=5000)]
# Statuses a technician sets by hand; resolving goes through the done checklist.
MANUAL_STATUSES = tuple(s for s in STATUSES if s not in ("resolved", "closed"))


@dataclass(frozen=True)
class Notice:
    """The outcome of an action, shown inside the panel it belongs to."""

    panel: str
    tone: str  # ok | error | warn | info
    text: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    who: str
    action: str
    note: str = ""
    kind: str = "event"


@dataclass
class Runner:
    """The ticket's latest run as the runner shows it."""

    run: RunbookRun
    state: RunState
    answered: list[dict[str, Any]] = field(default_factory=list)
    inputs: list[tuple[str, str]] = field(default_factory=list)
    approval: ApprovalRequest | None = None


# --- reading --------------------------------------------------------------------------------


def _staff_row(session: Session, user: SignedIn) -> Staff:
    return get_staff(session, user.staff_id)


def _runner(session: Session, ticket: Ticket) -> Runner | None:
    run = runbooks.latest_run(session, ticket)
    if run is None:
        return None
    state = runbooks.run_state(session, run)
    labels = {i.id: i.label for i in state.runbook.inputs}
    runner = Runner(run=run, state=state)
    runner.inputs = [(labels.get(k, k), str(v)) for k, v in (run.inputs or {}).items() if v]
    for step in runbooks.run_steps(session, run):
        defined = state.runbook.steps.get(step.step_id)
        runner.answered.append(
            {"step": step.step_id, "text": defined.text if defined else "", "row": step}
        )
    if state.step.kind == "action":
        runner.approval = next(
            (
                r
                for r in list_requests(session, ticket=ticket)
                if r.run_id == run.id and r.step_id == state.current
            ),
            None,
        )
    return runner


def _suggestions(session: Session, ticket: Ticket) -> list[dict[str, Any]]:
    """The best runbooks for the ticket, the attached one first, each with its inputs."""
    found = suggest(session, f"{ticket.title}\n{ticket.body}")
    rows: list[dict[str, Any]] = [
        {"key": s.key, "title": s.title, "why": s.why, "score": s.score} for s in found
    ]
    if ticket.runbook_key and all(r["key"] != ticket.runbook_key for r in rows):
        try:
            attached = runbooks.get_runbook(session, ticket.runbook_key)
        except FranchiseError:
            attached = None
        if attached is not None:
            rows.insert(0, {"key": attached.key, "title": attached.title, "why": "", "score": 0})
    rows.sort(key=lambda r: r["key"] != ticket.runbook_key)
    for row in rows:
        parsed = runbooks.definition(session, runbooks.get_runbook(session, row["key"]))
        row["inputs"] = parsed.inputs
        row["attached"] = row["key"] == ticket.runbook_key
    return rows


def _composer(session: Session, ticket: Ticket, me: Staff, runner: Runner | None) -> dict[str, Any]:
    runbook_key = runner.state.runbook.key if runner else ticket.runbook_key
    templates = [t for t in load_templates(session).templates if t.runbook in (None, runbook_key)]
    groups = [(stage, [t for t in templates if t.stage == stage]) for stage in STAGES]
    if ticket.status in ("resolved", "closed") or (runner and runner.state.outcome == "resolved"):
        stage = "resolved"
    elif runner and runner.state.outcome == "escalate":
        stage = "escalated"
    else:
        stage = STAGE_FOR_STATUS.get(ticket.status, "update")
    try:
        chosen = choose_template(session, ticket, stage).key
    except FranchiseError:
        chosen = templates[0].key if templates else ""
    return {
        "groups": [(s, ts) for s, ts in groups if ts],
        "chosen": chosen,
        "preview": _preview(session, ticket, me, chosen),
    }


def _preview(session: Session, ticket: Ticket, me: Staff, template: str) -> dict[str, str]:
    preview = {"error": "", "to": "", "subject": "", "body": ""}
    if not template:
        return {**preview, "error": "There are no message templates; ask the owner to add some."}
    try:
        message = render_for_ticket(session, ticket, template, technician=me)
    except FranchiseError as exc:
        return {**preview, "error": exc.message}
    return {**preview, "to": message.to, "subject": message.subject, "body": message.body}


def _history(
    session: Session, ticket: Ticket, names: dict[int, str], runner: Runner | None
) -> list[HistoryRow]:
    rows = [_event_row(e, names) for e in history(session, ticket)]
    if runner is not None:
        for step in runbooks.run_steps(session, runner.run, include_retracted=True):
            action = f"answered {step.step_id}: {step.answer}"
            if step.retracted_at is not None:
                action += " (later stepped back)"
            who = names.get(step.actor_id, "Someone") if step.actor_id else "System"
            rows.append(HistoryRow(step.at, who, action, step.note or "", "answer"))
    return sorted(rows, key=lambda r: r.at)


def _event_row(event: TicketEvent, names: dict[int, str]) -> HistoryRow:
    who = names.get(event.actor_id, "Someone") if event.actor_id else "System"
    note = event.note or ""
    if event.kind != "changed" or not event.field:
        action = {
            "created": "opened the ticket",
            "done-checked": "ticked a done item",
            "done-override": "resolved with the done list unticked",
            "message": "e-mailed the client",
            "message_failed": "could not e-mail the client",
            "owner_ask": "asked the owner",
            "escalation_override": "overrode the escalation map",
            "approval": "approval",
        }.get(event.kind, event.kind.replace("_", " ").replace("-", " "))
        return HistoryRow(event.at, who, action, note, event.kind)
    if event.field == "assignee_id":
        target = names.get(int(event.new_value), "someone") if event.new_value else None
        action = f"assigned it to {target}" if target else "unassigned it"
    elif event.field == "custom_fields":
        allowed = _literal(event.new_value).get("escalation_allowed", "?")
        action = f"set escalation allowed to {str(allowed).capitalize()}"
    elif event.field == "tags":
        tags = _literal(event.new_value)
        action = "set the tags to " + (", ".join(map(str, tags)) if tags else "none")
    elif event.field.endswith("_at"):
        action = f"recorded the {event.field.removesuffix('_at').replace('_', ' ')} time"
    else:
        old = f" from {_label(event.old_value)}" if event.old_value else ""
        action = f"changed {event.field.replace('_', ' ')}{old} to {_label(event.new_value)}"
    return HistoryRow(event.at, who, action, note, event.field)


def _literal(value: str | None) -> Any:
    """History stores old and new values as text (Python reprs of lists and dicts)."""
    try:
        return ast.literal_eval(value or "{}")
    except (ValueError, SyntaxError):
        return {}


def _label(value: str | None) -> str:
    return (value or "nothing").replace("_", " ")


def _escalation(session: Session, ticket: Ticket, user: SignedIn) -> dict[str, Any]:
    decision = check_escalation(session, ticket)
    levels = current_map(session).map.levels
    here = levels.index(ticket.level) if ticket.level in levels else -1
    higher = levels[here + 1 :]
    target = decision.to if decision.allowed and decision.to in higher else None
    return {
        "decision": decision,
        "pending": pending_step(session, ticket),
        "target": target or (higher[0] if higher else None),
        "can_override": user.is_manager,
    }


def _context(
    session: Session, ticket: Ticket, user: SignedIn, notice: Notice | None = None
) -> dict[str, Any]:
    me = _staff_row(session, user)
    staff = list_staff(session)
    names = {s.id: s.name for s in staff}
    runner = _runner(session, ticket)
    done = lifecycle.done_list(session, ticket)
    drill = active_drill(session)
    return {
        "ticket": ticket,
        "client": get_client(session, ticket.client_id).name if ticket.client_id else None,
        "staff": names,
        "runner": runner,
        "suggestions": _suggestions(session, ticket) if runner is None else [],
        "esc": _escalation(session, ticket, user),
        "done": done,
        "can_override_done": me.level in lifecycle.OVERRIDE_LEVELS or me.is_manager,
        "composer": _composer(session, ticket, me, runner),
        "reasons": REASONS,
        "drill_until": window(drill).until if drill else None,
        "lessons": list_lessons(session, ticket_id=ticket.id),
        "runbook_keys": [r.key for r in runbooks.list_runbooks(session, include_archived=False)],
        "lesson_runbook": runner.state.runbook.key if runner else ticket.runbook_key or "",
        "events": _history(session, ticket, names, runner),
        "statuses": MANUAL_STATUSES,
        "closed": ticket.status in ("resolved", "closed"),
        "notice": notice,
        "oob": False,
    }


# --- responding -----------------------------------------------------------------------------


def _act(session: Session, action: Callable[[], T]) -> tuple[T | None, FranchiseError | None]:
    """Run one service call in a savepoint: a refusal leaves nothing half-written."""
    try:
        with session.begin_nested():
            return action(), None
    except FranchiseError as exc:
        return None, exc
    except IntegrityError:
        # Two people answering the same step at once: the database keeps the first.
        return None, Conflict("someone changed this ticket at the same moment; reload and retry")


def _respond(
    request: Request,
    session: Session,
    ticket: Ticket,
    user: SignedIn,
    *,
    panel: str,
    notice: Notice | None = None,
    status: int = 200,
    show: bool = False,
) -> Response:
    """htmx: the live panels (out of band); plain forms: back to the page, or the page with
    the refusal (or with a result worth reading, when `show`)."""
    htmx = request.headers.get("hx-request") == "true"
    if not htmx and status < 400 and not show:
        return RedirectResponse(f"/tickets/{ticket.id}#{panel}", status_code=303)
    session.refresh(ticket)
    context = _context(session, ticket, user, notice)
    if not htmx:
        return render(request, "ticket.html", context, status=status)
    context.update(oob=True, panel=panel)
    response = render(request, "partials/ticket_live.html", context, status=status)
    # ticket.js lets htmx swap refusals (409, 422 ...) that carry this header.
    response.headers["X-Ticket-Panels"] = "1"
    return response


def _refused(exc: FranchiseError, panel: str) -> Notice:
    hint = refusal_hint(exc)
    lines = (f"Next runbook step: {hint}",) if hint else ()
    return Notice(panel, "error", exc.message, lines)


def _finish(
    request: Request,
    session: Session,
    ticket: Ticket,
    user: SignedIn,
    panel: str,
    error: FranchiseError | None,
    ok: str = "",
) -> Response:
    if error is not None:
        refusal = _refused(error, panel)
        return _respond(
            request, session, ticket, user, panel=panel, notice=refusal, status=error.status
        )
    notice = Notice(panel, "ok", ok) if ok else None
    return _respond(request, session, ticket, user, panel=panel, notice=notice)


# --- routes ---------------------------------------------------------------------------------


@router.get("/tickets/{ticket_id}")
def ticket_page(
    request: Request, session: DbSession, user: CurrentUser, ticket_id: int
) -> Response:
    ticket = get_ticket(session, ticket_id)
    return render(request, "ticket.html", _context(session, ticket, user))


@router.post("/tickets/{ticket_id}/run")
def start_run(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    runbook: Annotated[str, Form(max_length=100)],
    input_id: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    input_value: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = _staff_row(session, user)
    inputs = {k: v.strip() for k, v in zip(input_id, input_value, strict=False)}

    def start() -> RunbookRun:
        if runbooks.latest_run(session, ticket) is not None:
            raise InvalidInput(f"ticket #{ticket.id} already has a runbook run; continue it")
        row = runbooks.get_runbook(session, runbook)
        return workflow.begin_run(session, row, ticket=ticket, actor=me, inputs=inputs)

    _, error = _act(session, start)
    return _finish(request, session, ticket, user, "runner", error)


@router.post("/tickets/{ticket_id}/run/answer")
def answer_step(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    step: Annotated[str, Form(max_length=100)],
    reply: Annotated[str, Form(max_length=200)],
    note: Text = "",
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = _staff_row(session, user)

    def answer() -> RunState:
        run = runbooks.latest_run(session, ticket)
        if run is None:
            raise InvalidInput("start a runbook before answering its steps")
        return workflow.record_answer(
            session, run, step=step, reply=reply, note=note.strip() or None, actor=me
        )

    _, error = _act(session, answer)
    return _finish(request, session, ticket, user, "runner", error)


@router.post("/tickets/{ticket_id}/run/back")
def step_back(request: Request, session: DbSession, user: CurrentUser, ticket_id: int) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = _staff_row(session, user)

    def back() -> RunState:
        return workflow.step_back(session, ticket, actor=me)

    _, error = _act(session, back)
    return _finish(request, session, ticket, user, "runner", error)


@router.post("/tickets/{ticket_id}/approval")
def ask_approval(
    request: Request, session: DbSession, user: CurrentUser, ticket_id: int
) -> Response:
    """Ask again for the current action step (after a denial, or a run started without one)."""
    ticket = get_ticket(session, ticket_id)
    me = _staff_row(session, user)

    def ask() -> ApprovalRequest:
        run = runbooks.latest_run(session, ticket)
        state = runbooks.run_state(session, run) if run else None
        if run is None or state is None or state.step.estimate is None:
            raise InvalidInput("the run is not at an action step that needs approval")
        estimate = state.step.estimate
        return request_approval(
            session,
            ticket=ticket,
            action=f"{state.runbook.key} step {state.current}: {state.step.text[:280]}",
            cost=str(estimate.cost),
            minutes=estimate.minutes,
            impact=estimate.impact,
            kind=estimate.kind,
            requester=me,
            run_id=run.id,
            step_id=state.current,
        )

    _, error = _act(session, ask)
    return _finish(request, session, ticket, user, "runner", error)


@router.post("/tickets/{ticket_id}/escalate")
def escalate(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    to: Annotated[str, Form(max_length=32)],
    override_reason: Text = "",
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = _staff_row(session, user)
    reason = override_reason.strip() or None
    _, error = _act(
        session,
        lambda: escalate_ticket(session, ticket, to=to, by=me, override_reason=reason),
    )
    return _finish(request, session, ticket, user, "escalation", error, f"Escalated to {to}.")


@router.get("/tickets/{ticket_id}/message/preview")
def message_preview(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    template: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    ticket = get_ticket(session, ticket_id)
    preview = _preview(session, ticket, _staff_row(session, user), template)
    return render(request, "partials/ticket_preview.html", {"preview": preview})


@router.post("/tickets/{ticket_id}/message")
def message_send(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    template: Annotated[str, Form(max_length=100)],
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = _staff_row(session, user)
    settings = request.app.state.settings
    message, error = _act(
        session,
        lambda: send_message(session, ticket, template=template, by=me, settings=settings),
    )
    if error is not None:
        return _finish(request, session, ticket, user, "composer", error)
    assert message is not None
    if message.status == "failed":
        # Recorded on the ticket as failed (and kept: the request still commits).
        notice = Notice(
            "composer", "error", f"Not delivered to {message.to_address}: {message.error}"
        )
        return _respond(request, session, ticket, user, panel="composer", notice=notice, status=502)
    notice = Notice("composer", "ok", f"Sent to {message.to_address}: {message.subject}")
    return _respond(request, session, ticket, user, panel="composer", notice=notice)


@router.post("/tickets/{ticket_id}/done")
def tick_done(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    item: Annotated[str, Form(max_length=500)],
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = _staff_row(session, user)
    _, error = _act(session, lambda: lifecycle.check_item(session, ticket, item, by=me))
    return _finish(request, session, ticket, user, "done", error)


@router.post("/tickets/{ticket_id}/resolve")
def resolve(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    override_reason: Text = "",
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = _staff_row(session, user)
    reason = override_reason.strip() or None
    _, error = _act(
        session, lambda: lifecycle.resolve_ticket(session, ticket, by=me, override_reason=reason)
    )
    ok = "Resolved. Send the client the resolved message below if you have not yet."
    return _finish(request, session, ticket, user, "done", error, ok)


@router.post("/tickets/{ticket_id}/ask")
def ask(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    reason: Annotated[str, Form(max_length=40)],
    question: Text,
    emergency: Annotated[bool, Form()] = False,
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = _staff_row(session, user)
    settings = request.app.state.settings
    result, error = _act(
        session,
        lambda: ask_owner(
            session,
            ticket=ticket,
            by=me,
            reason=reason,
            question=question,
            emergency=emergency,
            settings=settings,
        ),
    )
    if error is not None:
        return _finish(request, session, ticket, user, "ask", error)
    assert result is not None
    headline = {
        "deflection": ("ok", "Answered without the owner"),
        "refused": ("warn", "Refused: the owner is offline for a drill"),
        "interruption": ("info", "Sent to the owner"),
    }[result.outcome]
    text = f"{headline[1]}. {result.answer.text}"
    notice = Notice("ask", headline[0], text, result.answer.guidance)
    return _respond(request, session, ticket, user, panel="ask", notice=notice, show=True)


@router.post("/tickets/{ticket_id}/lesson")
def lesson(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    runbook: Annotated[str, Form(max_length=100)],
    text: Text,
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = _staff_row(session, user)
    _, error = _act(
        session,
        lambda: add_lesson(session, ticket=ticket.id, runbook=runbook, text=text, author=me),
    )
    ok = f"Lesson saved for {runbook}; fold it into the runbook before the week ends."
    return _finish(request, session, ticket, user, "lesson", error, ok)


@router.post("/tickets/{ticket_id}/assign")
def assign(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    to: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = _staff_row(session, user)

    def do_assign() -> None:
        assignee = get_staff(session, to) if to.strip() else None
        lifecycle.assign(session, ticket, assignee, by=me)

    _, error = _act(session, do_assign)
    return _finish(request, session, ticket, user, "facts", error)


@router.post("/tickets/{ticket_id}/status")
def change_status(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    status: Annotated[str, Form(max_length=40)],
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = _staff_row(session, user)
    _, error = _act(session, lambda: lifecycle.set_status(session, ticket, status, by=me))
    return _finish(request, session, ticket, user, "facts", error)
