"""JSON routes for tickets and runbook runs on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import ValidationError
from starlette.responses import Response

from franchise.accounts.service import get_staff
from franchise.api.after_commit import AfterCommit
from franchise.api.deps import CurrentStaff, DbSession, get_db
from franchise.api.files import download, read_uploads
from franchise.errors import InvalidInput
from franchise.escalation.service import refresh_escalation
from franchise.flows import resolving
from franchise.flows.opening import open_ticket
from franchise.flows.runs import begin_run, record_answer, runner_view, step_back, switch_run
from franchise.messages.service import settle_auto_send
from franchise.queue.service import DEFAULT_SORT, MAX_CURSOR, MAX_SEARCH, QueueQuery, find_tickets
from franchise.runbooks import service as runbooks
from franchise.runbooks.render import step_dict
from franchise.runbooks.schemas import RunAnswer, RunStart, RunSwitch
from franchise.settings import Settings
from franchise.tickets import lifecycle, notes
from franchise.tickets.notes import MAX_FILES, AttachmentStore, Upload
from franchise.tickets.present import ticket_dict
from franchise.tickets.requester import change_requester
from franchise.tickets.schemas import (
    DoneCheck,
    NoteCreate,
    RequesterChoice,
    ResolveRequest,
    TicketCreate,
    TicketUpdate,
)
from franchise.tickets.service import change_ticket, get_ticket

router = APIRouter(tags=["tickets"])


@router.get("/tickets")
def tickets(
    request: Request,
    response: Response,
    session: DbSession,
    staff: CurrentStaff,
    status: str | None = None,
    category: str | None = None,
    search: Annotated[str | None, Query(max_length=MAX_SEARCH)] = None,
    client: int | None = None,
    assignee: Annotated[
        str | None, Query(max_length=20, description="staff id, or 'none' for unassigned")
    ] = None,
    level: Annotated[str | None, Query(max_length=32)] = None,
    priority: str | None = None,
    view: Annotated[str, Query(max_length=20)] = "all",
    sort: Annotated[
        str,
        Query(
            max_length=20,
            description="created, updated, id, title or priority; '-' for descending",
        ),
    ] = DEFAULT_SORT,
    cursor: Annotated[
        str | None, Query(max_length=MAX_CURSOR, description="X-Next-Cursor of the previous page")
    ] = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> list[dict[str, Any]]:
    """Tickets matching the filters (any status unless `status` says; `status=open` for the
    open ones). Search covers title, body, ticket number, external id, client name and
    requester name or e-mail. The next page's cursor comes in the X-Next-Cursor header (and
    a Link rel="next")."""
    query = QueueQuery(
        view=view,
        status=status or "",
        q=search or "",
        client=client,
        assignee=(assignee or "").strip(),
        level=(level or "").strip(),
        category=category or "",
        priority=priority or "",
        sort=sort,
    )
    page = find_tickets(
        session, query, staff_id=staff.id, cursor=cursor or None, limit=limit, offset=offset
    )
    if page.next_cursor:
        response.headers["X-Next-Cursor"] = page.next_cursor
        following = request.url.include_query_params(cursor=page.next_cursor)
        response.headers["Link"] = f'<{following}>; rel="next"'
    return [ticket_dict(session, t) for t in page.tickets]


@router.post("/tickets", status_code=201)
def create(body: TicketCreate, session: DbSession, staff: CurrentStaff) -> dict[str, Any]:
    ticket, suggestions = open_ticket(
        session,
        title=body.title,
        body=body.body,
        client=body.client,
        requester=body.requester,
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


@router.patch("/tickets/{ticket_id}")
def update(
    ticket_id: int, body: TicketUpdate, session: DbSession, staff: CurrentStaff
) -> dict[str, Any]:
    ticket = get_ticket(session, ticket_id)
    if body.assignee is not None:
        assignee = None if body.assignee == "nobody" else get_staff(session, body.assignee)
        lifecycle.assign(session, ticket, assignee, by=staff)
    if body.status is not None:
        lifecycle.set_status(session, ticket, body.status, by=staff, note=body.note)
    if body.priority is not None:
        change_ticket(session, ticket, actor=staff, note=body.note, priority=body.priority)
    if body.requester is not None:
        ref = None if body.requester == "nobody" else body.requester
        change_requester(session, ticket, ref, actor=staff, note=body.note)
    refresh_escalation(session, ticket, actor=staff)
    return ticket_dict(session, ticket)


@router.put("/tickets/{ticket_id}/requester")
def set_ticket_requester(
    ticket_id: int, body: RequesterChoice, session: DbSession, staff: CurrentStaff
) -> dict[str, Any]:
    """Change the requester to another contact of the ticket's client, or clear it with
    null. The ticket's assignee, L2, the owner, admins and service managers may."""
    ticket = get_ticket(session, ticket_id)
    change_requester(session, ticket, body.requester, actor=staff, note=body.note)
    return ticket_dict(session, ticket)


@router.get("/tickets/{ticket_id}/done")
def done(ticket_id: int, session: DbSession, _staff: CurrentStaff) -> dict[str, Any]:
    return lifecycle.done_list(session, get_ticket(session, ticket_id)).to_dict()


@router.post("/tickets/{ticket_id}/done")
def check(
    ticket_id: int, body: DoneCheck, session: DbSession, staff: CurrentStaff
) -> dict[str, Any]:
    return lifecycle.check_item(
        session, get_ticket(session, ticket_id), body.item, by=staff
    ).to_dict()


@router.post("/tickets/{ticket_id}/resolve", response_model=None)
def resolve(
    ticket_id: int,
    body: ResolveRequest,
    request: Request,
    session: DbSession,
    staff: CurrentStaff,
) -> AfterCommit:
    """Resolve; `resolved_message` says whether the client was e-mailed (when the organisation
    sends it on resolve) and `offer_message` names the stage to send by hand otherwise. The
    answer comes after the commit and the message's delivery."""
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    ticket = get_ticket(session, ticket_id)
    _done, sent = resolving.resolve(
        session,
        ticket,
        by=staff,
        settings=settings,
        override_reason=body.override_reason,
        skip_reason=body.skip_reason,
    )
    data = ticket_dict(session, ticket)
    db = get_db(request)

    def answer() -> JSONResponse:
        settled = settle_auto_send(db, sent)
        data["resolved_message"] = settled.to_dict()
        data["offer_message"] = None if settled.status in ("sent", "queued") else "resolved"
        return JSONResponse(data)

    return AfterCommit(answer)


def _run_dict(session: DbSession, run_id: int) -> dict[str, Any]:
    run = runbooks.get_run(session, run_id)
    data = runner_view(session, run)
    data["step"] = step_dict(runbooks.run_state(session, run).step)
    return data


@router.post("/runs", status_code=201)
def start_run(body: RunStart, session: DbSession, staff: CurrentStaff) -> dict[str, Any]:
    row = runbooks.get_runbook(session, body.runbook)
    ticket = get_ticket(session, body.ticket_id) if body.ticket_id is not None else None
    run = begin_run(session, row, ticket=ticket, actor=staff, inputs=body.inputs or None)
    return _run_dict(session, run.id)


@router.get("/runs/{run_id}")
def get_run(run_id: int, session: DbSession, _staff: CurrentStaff) -> dict[str, Any]:
    return _run_dict(session, run_id)


@router.post("/runs/{run_id}/answers")
def answer(run_id: int, body: RunAnswer, session: DbSession, staff: CurrentStaff) -> dict[str, Any]:
    run = runbooks.get_run(session, run_id)
    record_answer(
        session,
        run,
        step=body.step,
        reply=body.answer,
        note=body.note,
        actor=staff,
        save_fact=body.save_fact,
    )
    return _run_dict(session, run_id)


@router.post("/runs/{run_id}/back")
def back(run_id: int, session: DbSession, staff: CurrentStaff) -> dict[str, Any]:
    """Take back the run's last answer (kept on record); the run is at that step again."""
    run = runbooks.get_run(session, run_id)
    if run.ticket_id is None:
        raise InvalidInput(f"run {run_id} is not on a ticket")
    step_back(session, get_ticket(session, run.ticket_id), actor=staff)
    return _run_dict(session, run_id)


@router.post("/runs/{run_id}/switch", status_code=201)
def switch(run_id: int, body: RunSwitch, session: DbSession, staff: CurrentStaff) -> dict[str, Any]:
    """Leave this run for another runbook (an edge case says it is another problem)."""
    run = runbooks.get_run(session, run_id)
    if run.ticket_id is None:
        raise InvalidInput(f"run {run_id} is not on a ticket")
    ticket = get_ticket(session, run.ticket_id)
    new = switch_run(
        session,
        ticket,
        runbooks.get_runbook(session, body.runbook),
        actor=staff,
        reason=body.reason,
    )
    return _run_dict(session, new.id)


@dataclass(frozen=True)
class NoteInput:
    text: str
    minutes: int | None
    uploads: list[Upload]


async def note_input(request: Request, _staff: CurrentStaff) -> NoteInput:
    """A note as JSON ({"text", "minutes"}) or as a multipart form (text, minutes and any
    number of `file` parts); read only once the caller is known."""
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=MAX_FILES + 1)
        text = form.get("text")
        minutes = form.get("minutes")
        if minutes is not None and not (isinstance(minutes, str) and minutes.strip().isdecimal()):
            raise InvalidInput("minutes must be a whole number of minutes")
        uploads = read_uploads(form.getlist("file"), settings.attachment_max_bytes)
        return NoteInput(
            text if isinstance(text, str) else "",
            int(minutes) if isinstance(minutes, str) and minutes.strip() else None,
            uploads,
        )
    try:
        body = NoteCreate.model_validate_json(await request.body())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidInput(f"{where}: {first['msg']}") from None
    return NoteInput(body.text, body.minutes, [])


@router.post("/tickets/{ticket_id}/notes", status_code=201)
def add_ticket_note(
    ticket_id: int,
    request: Request,
    note: Annotated[NoteInput, Depends(note_input)],
    session: DbSession,
    staff: CurrentStaff,
) -> dict[str, Any]:
    """An internal note (root cause, what was tried, minutes worked, files); never sent to the
    client. JSON, or multipart/form-data with `file` parts for attachments."""
    ticket = get_ticket(session, ticket_id)
    store = AttachmentStore.from_settings(request.app.state.settings)
    event = notes.add_internal_note(
        session,
        ticket,
        note.text,
        by=staff,
        minutes=note.minutes,
        uploads=note.uploads,
        store=store,
    )
    files = [notes.attachment_dict(a) for a in notes.attachments(session, ticket)]
    return {
        "ticket_id": ticket.id,
        "id": event.id,
        "note": event.note,
        "kind": event.kind,
        "minutes": event.minutes,
        "attachments": [f for f in files if f["note_id"] == event.id],
        "minutes_worked": notes.minutes_worked(session, ticket),
    }


@router.get("/tickets/{ticket_id}/attachments/{attachment_id}", response_model=None)
def download_attachment(
    ticket_id: int, attachment_id: int, request: Request, session: DbSession, _staff: CurrentStaff
) -> FileResponse:
    """The file, as a download (never shown inline)."""
    row = notes.get_attachment(session, get_ticket(session, ticket_id), attachment_id)
    store = AttachmentStore.from_settings(request.app.state.settings)
    return download(store.path(row.stored_name), row.filename, row.content_type)
