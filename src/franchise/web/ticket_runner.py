"""The ticket page's runbook runner: start a run, answer its steps, step back, follow an
edge case to another runbook, ask again for an action step's approval, and the poll of a
runner whose step waits on an approval."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.api.deps import DbSession
from franchise.approvals.models import ApprovalRequest
from franchise.approvals.service import request_approval
from franchise.errors import InvalidInput
from franchise.flows import runs
from franchise.runbooks import service as runbooks
from franchise.runbooks.engine import RunState
from franchise.runbooks.models import RunbookRun
from franchise.tickets.service import get_ticket
from franchise.web.auth import CurrentUser, check_csrf
from franchise.web.ticket_answer import Text, act, finish, respond
from franchise.web.ticket_view import Notice, staff_row

router = APIRouter(dependencies=[Depends(check_csrf)])


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

    _, error = act(session, start)
    return finish(request, session, ticket, user, "runner", error)


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

    _, error = act(session, answer)
    return finish(request, session, ticket, user, "runner", error)


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

    _, error = act(session, back)
    return finish(request, session, ticket, user, "runner", error)


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

    _, error = act(session, switch)
    return finish(request, session, ticket, user, "runner", error, f"Switched to {runbook}.")


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
    return respond(
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

    _, error = act(session, ask)
    return finish(request, session, ticket, user, "runner", error)
