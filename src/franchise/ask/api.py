"""JSON route for Ask the owner."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from franchise.api.after_commit import AfterCommit
from franchise.api.deps import CurrentStaff, DbSession, get_db
from franchise.ask.reply import open_asks, reply_to_ask
from franchise.ask.schemas import AskOwner, AskReply
from franchise.ask.service import ActionEstimate, ask_owner
from franchise.settings import Settings
from franchise.tickets.service import get_ticket

router = APIRouter(tags=["ask the owner"])


@router.post("/tickets/{ticket_id}/ask-owner", response_model=None)
def ask(
    ticket_id: int, body: AskOwner, request: Request, session: DbSession, staff: CurrentStaff
) -> AfterCommit:
    """Answered from the system (deflection), sent to the owner (interruption), or during a
    drill refused with guidance; recorded as an owner contact either way (always 200). The
    answer comes after the commit, with how the owner's notification went."""
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    fields = (body.action, body.cost, body.minutes, body.impact, body.kind, body.recurring)
    estimate = None
    if any(v is not None for v in fields):
        estimate = ActionEstimate(
            action=body.action,
            cost=body.cost if body.cost is not None else 0,
            minutes=body.minutes or 0,
            impact=body.impact or "none",
            kind=body.kind,
            recurring=body.recurring or "once",
        )
    result = ask_owner(
        session,
        ticket=get_ticket(session, ticket_id),
        by=staff,
        reason=body.reason,
        question=body.question,
        emergency=body.emergency,
        settings=settings,
        estimate=estimate,
    )
    db = get_db(request)
    return AfterCommit(lambda: JSONResponse(result.settle(db).to_dict()))


@router.get("/asks")
def asks(
    session: DbSession, _staff: CurrentStaff, ticket_id: int | None = None
) -> list[dict[str, Any]]:
    """Asks that reached the owner and wait for a reply, oldest first."""
    return [a.to_dict() for a in open_asks(session, ticket_id=ticket_id)]


@router.post("/asks/{contact_id}/reply")
def reply(
    contact_id: int, body: AskReply, session: DbSession, staff: CurrentStaff
) -> dict[str, Any]:
    """The owner's reply: on the ticket, back to the asker, and offered as a lesson."""
    return reply_to_ask(session, contact_id, by=staff, text=body.text).to_dict()
