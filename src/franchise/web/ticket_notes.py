"""The ticket page's notes panel: internal notes with minutes worked and attached files, and
the download of those files (signed-in staff only, always as an attachment).

A plain multipart form: a note redirects back to the panel; a refusal (a file too large or of
a type notes do not take) shows the page with the reason and the typed note kept.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse
from starlette.responses import Response

from franchise.api.deps import DbSession
from franchise.api.files import download, read_uploads
from franchise.errors import FranchiseError, InvalidInput
from franchise.tickets import notes
from franchise.tickets.notes import MAX_NOTE, AttachmentStore
from franchise.tickets.service import get_ticket
from franchise.web.auth import CurrentUser, check_csrf
from franchise.web.templating import render
from franchise.web.ticket_view import Notice, page_context, staff_row

router = APIRouter(dependencies=[Depends(check_csrf)])
PANEL = "notes"


@router.post("/tickets/{ticket_id}/notes")
def add_note(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    text: Annotated[str, Form(max_length=MAX_NOTE)] = "",
    minutes: Annotated[str, Form(max_length=10)] = "",
    file: Annotated[list[UploadFile], File()] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    store = AttachmentStore.from_settings(request.app.state.settings)
    uploads = read_uploads(list(file), store.max_bytes)
    ticket = get_ticket(session, ticket_id)
    try:
        # A savepoint: a refused note leaves nothing behind, and no file is written for it.
        with session.begin_nested():
            if minutes.strip() and not minutes.strip().isdecimal():
                raise InvalidInput(f"minutes worked must be a whole number, got '{minutes}'")
            notes.add_internal_note(
                session,
                ticket,
                text,
                by=staff_row(session, user),
                minutes=int(minutes) if minutes.strip() else None,
                uploads=uploads,
                store=store,
            )
    except FranchiseError as exc:
        session.refresh(ticket)
        context = page_context(session, ticket, user, Notice(PANEL, "error", exc.message))
        context.update(note_draft=text, minutes_draft=minutes)
        return render(request, "ticket.html", context, status=exc.status)
    return RedirectResponse(f"/tickets/{ticket_id}#{PANEL}", status_code=303)


@router.get("/tickets/{ticket_id}/attachments/{attachment_id}", response_model=None)
def attachment(
    request: Request, session: DbSession, _user: CurrentUser, ticket_id: int, attachment_id: int
) -> FileResponse:
    row = notes.get_attachment(session, get_ticket(session, ticket_id), attachment_id)
    store = AttachmentStore.from_settings(request.app.state.settings)
    return download(store.path(row.stored_name), row.filename, row.content_type)
