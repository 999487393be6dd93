"""JSON routes for tickets and runbook runs on them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from franchise.runbooks import service as runbooks
from franchise.runbooks.render import step_dict
from franchise.runbooks.schemas import RunAnswer, RunStart
from franchise.tickets.present import ticket_dict
from franchise.tickets.schemas import TicketCreate
from franchise.tickets.service import get_ticket, list_tickets
from franchise.tickets.workflow import open_ticket
from franchise.web.deps import CurrentStaff, DbSession

router = APIRouter(tags=["tickets"])


@router.get("/tickets")
def tickets(
    session: DbSession,
    _staff: CurrentStaff,
    status: str | None = None,
    category: str | None = None,
    search: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> list[dict[str, Any]]:
    rows = list_tickets(
        session, status=status, category=category, search=search, limit=limit, offset=offset
    )
    return [ticket_dict(session, t) for t in rows]


@router.post("/tickets", status_code=201)
def create(body: TicketCreate, session: DbSession, staff: CurrentStaff) -> dict[str, Any]:
    ticket, suggestions = open_ticket(
        session,
        title=body.title,
        body=body.body,
        client=body.client,
        category=body.category,
        priority=body.priority,
        external_id=body.external_id,
        source="api",
        actor=staff,
    )
    data = ticket_dict(session, ticket)
    data["suggestions"] = [s.to_dict() for s in suggestions]
    return data


@router.get("/tickets/{ticket_id}")
def show(ticket_id: int, session: DbSession, _staff: CurrentStaff) -> dict[str, Any]:
    return ticket_dict(session, get_ticket(session, ticket_id), with_history=True)


def _run_dict(session: DbSession, run_id: int) -> dict[str, Any]:
    run = runbooks.get_run(session, run_id)
    state = runbooks.run_state(session, run)
    data = state.to_dict()
    data.update({"id": run.id, "ticket_id": run.ticket_id, "step": step_dict(state.step)})
    return data


@router.post("/runs", status_code=201)
def start_run(body: RunStart, session: DbSession, staff: CurrentStaff) -> dict[str, Any]:
    row = runbooks.get_runbook(session, body.runbook)
    ticket = get_ticket(session, body.ticket_id) if body.ticket_id is not None else None
    run = runbooks.start_run(session, row, ticket=ticket, actor=staff, inputs=body.inputs or None)
    return _run_dict(session, run.id)


@router.get("/runs/{run_id}")
def get_run(run_id: int, session: DbSession, _staff: CurrentStaff) -> dict[str, Any]:
    return _run_dict(session, run_id)


@router.post("/runs/{run_id}/answers")
def answer(run_id: int, body: RunAnswer, session: DbSession, staff: CurrentStaff) -> dict[str, Any]:
    run = runbooks.get_run(session, run_id)
    runbooks.answer_run(
        session, run, step=body.step, reply=body.answer, note=body.note, actor=staff
    )
    return _run_dict(session, run_id)
