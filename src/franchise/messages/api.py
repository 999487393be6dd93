"""JSON routes for client messages on tickets and the templates document."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from franchise.api.after_commit import AfterCommit
from franchise.api.deps import CurrentStaff, DbSession, Manager, get_db
from franchise.messages import service
from franchise.messages.schemas import MessagePreview, MessageSend, TemplatesSave
from franchise.settings import Settings
from franchise.tickets.service import get_ticket

router = APIRouter(tags=["messages"])


@router.post("/tickets/{ticket_id}/messages/preview")
def preview(
    ticket_id: int, body: MessagePreview, session: DbSession, staff: CurrentStaff
) -> dict[str, Any]:
    """Render a template for the ticket without sending it."""
    ticket = get_ticket(session, ticket_id)
    rendered = service.render_for_ticket(
        session,
        ticket,
        body.template,
        technician=staff,
        next_update=body.next_update,
        to=body.to,
    )
    return rendered.to_dict()


@router.post("/tickets/{ticket_id}/messages", status_code=201, response_model=None)
def send(
    ticket_id: int, body: MessageSend, request: Request, session: DbSession, staff: CurrentStaff
) -> AfterCommit:
    """Send a message to the client by e-mail. It goes after the commit; the answer says how
    that went: 201 sent (or queued), 502 not delivered (recorded, and retried if it may pass)."""
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    ticket = get_ticket(session, ticket_id)
    message = service.send_message(
        session,
        ticket,
        template=body.template,
        by=staff,
        settings=settings,
        to=body.to,
        next_update=body.next_update,
        cc_primary=body.cc_primary,
        body=body.body,
    )
    db, message_id = get_db(request), message.id

    def answer() -> JSONResponse:
        sent = service.reload_message(db, message_id)
        data = service.message_dict(sent)
        try:
            service.check_delivered(sent)
        except service.DeliveryFailed as exc:
            return JSONResponse(exc.to_dict() | {"message": data}, status_code=exc.status)
        return JSONResponse(data, status_code=201)

    return AfterCommit(answer)


@router.get("/tickets/{ticket_id}/messages")
def messages(ticket_id: int, session: DbSession, _staff: CurrentStaff) -> list[dict[str, Any]]:
    ticket = get_ticket(session, ticket_id)
    return [service.message_dict(m) for m in service.list_messages(session, ticket)]


@router.get("/templates")
def templates(session: DbSession, _staff: CurrentStaff) -> dict[str, Any]:
    revision, source = service.current_source(session)
    return {
        "revision": revision,
        "source": source,
        "templates": service.template_dicts(service.load_templates(session)),
    }


@router.put("/templates")
def save_templates(body: TemplatesSave, session: DbSession, staff: Manager) -> dict[str, Any]:
    """Save a new revision of the templates (lint problems come back as 422 with lines)."""
    revision, changed = service.save_templates(
        session,
        body.source,
        file="<request>",
        author=staff,
        note=body.note,
        expected_revision=body.expected_revision,
    )
    return {"revision": revision.number, "changed": changed}
