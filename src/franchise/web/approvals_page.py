"""The approvals inbox: everyone who can decide something sees it, with Approve / Deny."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from franchise.api.deps import DbSession
from franchise.approvals import inbox
from franchise.approvals.present import approval_dicts
from franchise.approvals.service import get_request
from franchise.errors import FranchiseError
from franchise.flows.approvals import decide_request
from franchise.web.auth import CurrentUser, check_csrf
from franchise.web.templating import render
from franchise.web.ticket_view import staff_row

router = APIRouter(dependencies=[Depends(check_csrf)])


def _page(
    request: Request, session: DbSession, user: CurrentUser, *, error: str = "", status: int = 200
) -> Response:
    me = staff_row(session, user)
    pending = inbox.decidable(session, me)
    waiting = [
        {**row, "timeout": r.timeout_at}
        for row, r in zip(approval_dicts(session, pending), pending, strict=True)
    ]
    own = approval_dicts(session, inbox.mine(session, me, limit=20))
    context = {
        "waiting": waiting,
        "own": own,
        "error": error,
        "done": request.query_params.get("done", ""),
    }
    return render(request, "approvals.html", context, status=status)


@router.get("/approvals")
def approvals_page(request: Request, session: DbSession, user: CurrentUser) -> Response:
    return _page(request, session, user)


@router.post("/approvals/{request_id}/decide")
def decide(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    request_id: int,
    decision: Annotated[str, Form(pattern="^(approve|deny)$")],
    reason: Annotated[str, Form(max_length=2000)] = "",
    back: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Approve or deny; refused (above your boundary, your own request, already decided)
    comes back on the page with the reason."""
    me = staff_row(session, user)
    try:
        with session.begin_nested():
            approval = get_request(session, request_id)
            decide_request(session, approval, by=me, approve=decision == "approve", reason=reason)
    except FranchiseError as exc:
        return _page(request, session, user, error=exc.message, status=exc.status)
    target = back if back.startswith("/tickets/") else f"/approvals?done={request_id}"
    return RedirectResponse(target, status_code=303)
