"""The ticket page's runbook panel: attach the offered runbook, replace it, or detach it;
change the ticket's category.

Plain form posts (the panel has a reason to type, so it is not swapped by other actions): a
change redirects back to the panel, a refusal shows the page with it in the panel.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from franchise.api.deps import DbSession
from franchise.errors import FranchiseError, InvalidInput
from franchise.flows.runbook_choice import (
    MAX_REASON,
    attach_runbook,
    change_category,
    detach_runbook,
)
from franchise.tickets.service import get_ticket
from franchise.web.auth import CurrentUser, check_csrf
from franchise.web.templating import render
from franchise.web.ticket_view import Notice, page_context, staff_row

router = APIRouter(dependencies=[Depends(check_csrf)])
PANEL = "runbook"


@router.post("/tickets/{ticket_id}/runbook")
def change_runbook(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    action: Annotated[str, Form(max_length=16)],
    reason: Annotated[str, Form(max_length=MAX_REASON)] = "",
    runbook: Annotated[str, Form(max_length=100)] = "",
    category: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)
    try:
        # A savepoint: a refusal leaves nothing half-written in the request's transaction.
        with session.begin_nested():
            if action == "detach":
                detach_runbook(session, ticket, actor=me, reason=reason)
            elif action == "attach":
                if not runbook.strip():
                    raise InvalidInput("choose a runbook to attach")
                attach_runbook(session, ticket, runbook.strip(), actor=me, reason=reason)
            elif action == "category":
                chosen = category.strip() or None
                change_category(session, ticket, chosen, actor=me, reason=reason)
            else:
                raise InvalidInput(f"unknown action '{action}' (use attach, detach or category)")
    except FranchiseError as exc:
        session.refresh(ticket)
        notice = Notice(PANEL, "error", exc.message)
        context = page_context(session, ticket, user, notice)
        return render(request, "ticket.html", context, status=exc.status)
    return RedirectResponse(f"/tickets/{ticket.id}#{PANEL}", status_code=303)
