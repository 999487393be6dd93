"""JSON route for Ask the owner."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from franchise.ask.schemas import AskOwner
from franchise.ask.service import ActionEstimate, ask_owner
from franchise.settings import Settings
from franchise.tickets.service import get_ticket
from franchise.web.after_commit import AfterCommit
from franchise.web.deps import CurrentStaff, DbSession, get_db

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
    fields = (body.action, body.cost, body.minutes, body.impact, body.kind)
    estimate = None
    if any(v is not None for v in fields):
        estimate = ActionEstimate(
            action=body.action,
            cost=body.cost if body.cost is not None else 0,
            minutes=body.minutes or 0,
            impact=body.impact or "none",
            kind=body.kind,
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
