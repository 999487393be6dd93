"""The technician's ticket page: runbook runner, escalation panel, approvals, client message,
done checklist, Ask the owner, lessons and the full history.

Every action is a form POST. htmx posts get the page's live panels back as out-of-band swaps
(so one answer updates the runner, the escalation panel and the history together); without
JavaScript the same form redirects back to the page, or shows it with the refusal. What the
page shows is built in web/ticket_view.py; the handlers here call a service and answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.models import Staff
from franchise.accounts.service import get_staff
from franchise.accounts.sessions import SignedIn
from franchise.api.after_commit import AfterCommit
from franchise.api.deps import DbSession, get_db
from franchise.approvals.models import ApprovalRequest
from franchise.approvals.service import request_approval
from franchise.ask.reply import MAX_REPLY, Reply, may_reply, reply_to_ask, ticket_asks
from franchise.ask.service import CHANNEL_NAMES, ask_owner
from franchise.errors import Conflict, FranchiseError, InvalidInput, NotFound, PermissionDenied
from franchise.escalation.service import refusal_hint
from franchise.flows import escalations, resolving, runs
from franchise.lessons.service import add_lesson
from franchise.messages.service import AutoSend, reload_message, send_message, settle_auto_send
from franchise.runbooks import service as runbooks
from franchise.runbooks.engine import RunState
from franchise.runbooks.models import RunbookRun
from franchise.tickets import lifecycle
from franchise.tickets.models import Ticket
from franchise.tickets.requester import change_requester
from franchise.tickets.service import get_ticket
from franchise.web.auth import CurrentUser, check_csrf
from franchise.web.templating import render
from franchise.web.ticket_view import Notice, page_context, preview, staff_row

router = APIRouter(dependencies=[Depends(check_csrf)])
T = TypeVar("T")
Text = Annotated[str, Form(max_length=5000)]


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
    also: tuple[str, ...] = (),
) -> Response:
    """htmx: the live panels (out of band); plain forms: back to the page, or the page with
    the refusal (or with a result worth reading, when `show`)."""
    htmx = request.headers.get("hx-request") == "true"
    if not htmx and status < 400 and not show:
        return RedirectResponse(f"/tickets/{ticket.id}#{panel}", status_code=303)
    session.refresh(ticket)
    context = page_context(session, ticket, user, notice)
    if not htmx:
        return render(request, "ticket.html", context, status=status)
    context.update(oob=True, panel=panel, also=also)
    response = render(request, "partials/ticket_live.html", context, status=status)
    # ticket.js lets htmx swap refusals (409, 422 ...) that carry this header.
    response.headers["X-Ticket-Panels"] = "1"
    return response


def _after_commit(
    request: Request, ticket_id: int, answer: Callable[[Session, Ticket], Response]
) -> Response:
    """Answer once the request has committed and its e-mails and notifications went out,
    reading the page afresh (their outcomes are in the history by then)."""

    def build() -> Response:
        with get_db(request).unit_of_work() as session:
            return answer(session, get_ticket(session, ticket_id))

    return AfterCommit(build)


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
    return render(request, "ticket.html", page_context(session, ticket, user))


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
    me = staff_row(session, user)
    inputs = {k: v.strip() for k, v in zip(input_id, input_value, strict=False)}

    def start() -> RunbookRun:
        row = runbooks.get_runbook(session, runbook)
        return runs.begin_run(session, row, ticket=ticket, actor=me, inputs=inputs)

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
    save_fact: Annotated[bool, Form()] = False,
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)

    def answer() -> RunState:
        run = runbooks.latest_run(session, ticket)
        if run is None:
            raise InvalidInput("start a runbook before answering its steps")
        return runs.record_answer(
            session,
            run,
            step=step,
            reply=reply,
            note=note.strip() or None,
            actor=me,
            save_fact=save_fact,
        )

    _, error = _act(session, answer)
    return _finish(request, session, ticket, user, "runner", error)


@router.post("/tickets/{ticket_id}/run/back")
def step_back(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    to: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Undo the last answer, or (`to`, the "change" link of a profile answer) every answer
    back to that step."""
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)

    def back() -> RunState:
        if to:
            return runs.step_back_to(session, ticket, to, actor=me)
        return runs.step_back(session, ticket, actor=me)

    _, error = _act(session, back)
    return _finish(request, session, ticket, user, "runner", error)


@router.post("/tickets/{ticket_id}/run/switch")
def switch_run(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    runbook: Annotated[str, Form(max_length=100)],
    edge_case: Annotated[int, Form(ge=1)],
) -> Response:
    """Follow an edge case that says "this is really another problem": the run under way is
    left on record and the named runbook starts."""
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)

    def switch() -> RunbookRun:
        run = runbooks.latest_run(session, ticket)
        state = runbooks.run_state(session, run) if run else None
        cases = state.runbook.edge_cases if state else ()
        if state is None or not 1 <= edge_case <= len(cases):
            raise InvalidInput("there is no such edge case in the run under way")
        case = cases[edge_case - 1]
        if case.switch != runbook or not case.applies_to(state.current):
            raise InvalidInput(
                f"edge case {edge_case} of '{state.runbook.key}' does not switch to '{runbook}' "
                f"at step '{state.current}'"
            )
        target = runbooks.get_runbook(session, runbook)
        reason = f"edge case {edge_case} ({case.when})"
        return runs.switch_run(session, ticket, target, actor=me, reason=reason)

    _, error = _act(session, switch)
    return _finish(request, session, ticket, user, "runner", error, f"Switched to {runbook}.")


@router.get("/tickets/{ticket_id}/runner")
def runner_poll(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    waiting: Annotated[int, Query(ge=1)],
    level: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """Polled by a runner whose step waits on approval `waiting` from `level`: nothing (204,
    htmx swaps nothing and polls on) while that still holds, else the live panels (unlocked,
    denied, or gone up a level after a timeout)."""
    ticket = get_ticket(session, ticket_id)
    run = runbooks.latest_run(session, ticket)
    nxt = runs.runner_view(session, run)["next"] if run is not None else None
    blocked = nxt.get("blocked_by") if isinstance(nxt, dict) else None
    if blocked is not None and (blocked["approval_id"], blocked["status"], blocked["level"]) == (
        waiting,
        "pending",
        level or blocked["level"],
    ):
        return Response(status_code=204)
    return _respond(
        request, session, ticket, user, panel="runner", notice=_decided_notice(session, waiting)
    )


def _decided_notice(session: Session, approval_id: int) -> Notice:
    request = session.get(ApprovalRequest, approval_id)
    if request is not None and request.status == "approved":
        return Notice(
            "runner", "ok", f"Approval #{approval_id} approved: the answers are unlocked."
        )
    if request is not None and request.status == "denied":
        why = request.reason.splitlines()[-1]
        return Notice("runner", "warn", f"Approval #{approval_id} denied ({why}).")
    if request is not None and request.status == "pending":
        text = (
            f"Approval #{approval_id} now waits on {request.approver_level} (no decision in time)."
        )
        return Notice("runner", "info", text)
    return Notice("runner", "info", "The run moved on since this page asked; here it is now.")


@router.post("/tickets/{ticket_id}/approval")
def ask_approval(
    request: Request, session: DbSession, user: CurrentUser, ticket_id: int
) -> Response:
    """Ask again for the current action step (after a denial, or a run started without one)."""
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)

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
    edge_case: Annotated[int | None, Form(ge=1)] = None,
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)
    reason = override_reason.strip() or None
    _, error = _act(
        session,
        lambda: escalations.escalate(
            session, ticket, to=to, by=me, override_reason=reason, edge_case=edge_case
        ),
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
    shown = preview(session, ticket, staff_row(session, user), template)
    return render(request, "partials/ticket_preview.html", {"preview": shown})


@router.post("/tickets/{ticket_id}/message")
def message_send(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    template: Annotated[str, Form(max_length=100)],
    body: Annotated[str | None, Form(max_length=20_000)] = None,
    cc_primary: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)
    settings = request.app.state.settings
    message, error = _act(
        session,
        lambda: send_message(
            session,
            ticket,
            template=template,
            by=me,
            settings=settings,
            body=body,
            cc_primary=cc_primary == "yes",
        ),
    )
    if error is not None:
        return _finish(request, session, ticket, user, "composer", error)
    assert message is not None
    message_id = message.id

    def answer(session: Session, ticket: Ticket) -> Response:
        sent = reload_message(get_db(request), message_id)
        if sent.status in ("failed", "retrying"):
            # Recorded on the ticket (the request committed before the e-mail went).
            later = "; it will be tried again" if sent.status == "retrying" else ""
            text = f"Not delivered to {sent.to_address}: {sent.error}{later}"
            notice = Notice("composer", "error", text)
            return _respond(
                request, session, ticket, user, panel="composer", notice=notice, status=502
            )
        verb = "Sent" if sent.status == "sent" else "Queued"
        copy = f" (copy to {sent.cc_address})" if sent.cc_address else ""
        notice = Notice("composer", "ok", f"{verb} to {sent.to_address}{copy}: {sent.subject}")
        return _respond(request, session, ticket, user, panel="composer", notice=notice)

    return _after_commit(request, ticket_id, answer)


@router.post("/tickets/{ticket_id}/done")
def tick_done(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    item: Annotated[str, Form(max_length=500)],
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)
    _, error = _act(session, lambda: lifecycle.check_item(session, ticket, item, by=me))
    return _finish(request, session, ticket, user, "done", error)


@router.post("/tickets/{ticket_id}/resolve")
def resolve(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    override_reason: Text = "",
    skip_reason: Text = "",
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)
    reason = override_reason.strip() or None
    settings = request.app.state.settings
    result, error = _act(
        session,
        lambda: resolving.resolve(
            session,
            ticket,
            by=me,
            settings=settings,
            override_reason=reason,
            skip_reason=skip_reason,
        ),
    )
    if error is not None:
        return _finish(request, session, ticket, user, "done", error)
    assert result is not None
    queued = result[1]

    def answer(session: Session, ticket: Ticket) -> Response:
        notice = _resolved_notice(settle_auto_send(get_db(request), queued))
        # A message that did not go out is worth reading, also without JavaScript.
        return _respond(
            request, session, ticket, user, panel="done", notice=notice, show=notice.tone != "ok"
        )

    return _after_commit(request, ticket_id, answer)


def _resolved_notice(sent: AutoSend) -> Notice:
    if sent.status == "off":
        text = "Resolved. Send the client the resolved message below if you have not yet."
        return Notice("done", "ok", text)
    if sent.status in ("sent", "queued"):
        return Notice("done", "ok", f"Resolved. {sent.text}.")
    return Notice("done", "warn", f"Resolved. {sent.text}. Send it below once that is fixed.")


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
    me = staff_row(session, user)
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
    # The answer often opens with the headline itself ("Sent to the owner: ..."): say it once.
    said = result.answer.text
    text = said if said.startswith(headline[1]) else f"{headline[1]}. {said}"

    def answer(session: Session, ticket: Ticket) -> Response:
        lines = result.answer.guidance
        settled = result.settle(get_db(request))
        if settled.delivery_text() is not None:
            delivered = ", ".join(settled.delivered)
            lines = (*lines, f"delivered: [{delivered}]. {settled.delivery_text()}")
        notice = Notice("ask", headline[0], text, lines)
        return _respond(request, session, ticket, user, panel="ask", notice=notice, show=True)

    return _after_commit(request, ticket_id, answer)


@router.post("/tickets/{ticket_id}/asks/{ask_id}/reply")
def ask_reply(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    ask_id: int,
    text: Annotated[str, Form(max_length=MAX_REPLY)] = "",
) -> Response:
    """The owner (or an admin for them) answers an ask on its ticket: the answer is in the
    history, goes back to the technician and is offered as a lesson."""
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)

    def answer() -> Reply:
        if not may_reply(me.level, me.is_manager):
            raise PermissionDenied(
                "only the owner (or an admin answering for them) replies to asks"
            )
        if all(a.id != ask_id for a in ticket_asks(session, ticket.id)):
            raise NotFound(f"ticket #{ticket.id} has no ask #{ask_id}")
        return reply_to_ask(session, ask_id, by=me, text=text)

    reply, error = _act(session, answer)
    if error is not None:
        return _finish(request, session, ticket, user, "ask", error)
    assert reply is not None
    notice = Notice("ask", "ok", _reply_text(session, reply), _lesson_lines(reply))
    # Who was told and the lesson offered are worth reading, also without JavaScript.
    return _respond(
        request, session, ticket, user, panel="ask", notice=notice, show=True, also=("lesson",)
    )


def _reply_text(session: Session, reply: Reply) -> str:
    asker = session.get(Staff, reply.contact.staff_id) if reply.contact.staff_id else None
    who = asker.name if asker else "the technician who asked"
    if reply.notified:
        ways = ", ".join(CHANNEL_NAMES.get(v, v) for v in reply.notified)
        return f"Answer saved on the ticket and sent to {who} ({ways})."
    return (
        f"Answer saved on the ticket. {who} has no notification channel set up, so they "
        "see it here on the ticket."
    )


def _lesson_lines(reply: Reply) -> tuple[str, ...]:
    if reply.lesson_id is not None:
        return (
            f"Offered as lesson #{reply.lesson_id} (below): turn this answer into a runbook "
            "change, an escalation rule or a template, so nobody has to ask again.",
        )
    return (
        "No runbook covers this ticket, so no lesson was drafted: add one below if this "
        "answer should become a runbook change, a rule or a template.",
    )


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
    me = staff_row(session, user)
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
    me = staff_row(session, user)

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
    me = staff_row(session, user)
    _, error = _act(session, lambda: lifecycle.set_status(session, ticket, status, by=me))
    return _finish(request, session, ticket, user, "facts", error)


@router.post("/tickets/{ticket_id}/requester")
def change_ticket_requester(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    requester: Annotated[str, Form(max_length=12)],
) -> Response:
    """`requester` is a contact id of the ticket's client, or "none" to clear it."""
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)
    chosen = None if requester == "none" else requester
    _, error = _act(session, lambda: change_requester(session, ticket, chosen, actor=me))
    return _finish(request, session, ticket, user, "facts", error)
