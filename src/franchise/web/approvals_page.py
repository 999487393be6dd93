"""The approvals inbox: everyone who can decide something sees it, with Approve / Deny."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.api.deps import DbSession
from franchise.approvals import inbox
from franchise.approvals.details import ApprovalDetails, approval_details
from franchise.approvals.models import ApprovalRequest
from franchise.approvals.service import get_request
from franchise.errors import FranchiseError
from franchise.flows.approvals import decide_request
from franchise.orgsettings.service import get_config
from franchise.web.auth import CurrentUser, check_csrf
from franchise.web.templating import render
from franchise.web.ticket_view import staff_row, step_title

router = APIRouter(dependencies=[Depends(check_csrf)])


def _page(
    request: Request, session: DbSession, user: CurrentUser, *, error: str = "", status: int = 200
) -> Response:
    me = staff_row(session, user)
    currency = get_config(session).currency
    context = {
        "waiting": approval_details(session, inbox.decidable(session, me), currency),
        "own": approval_details(session, inbox.mine(session, me, limit=20), currency),
        "error": error,
        "done": _done(session, request.query_params.get("done", ""), currency),
        "step_title": step_title,
    }
    return render(request, "approvals.html", context, status=status)


def _done(session: Session, raw: str, currency: str) -> ApprovalDetails | None:
    """The request just decided, for the notice that says how (the id comes from our own
    redirect, but is only a query parameter: anything else shows no notice)."""
    if not raw.isdigit() or len(raw) > 12:
        return None
    decided = session.get(ApprovalRequest, int(raw))
    if decided is None or decided.status == "pending":
        return None
    return approval_details(session, [decided], currency)[0]


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
