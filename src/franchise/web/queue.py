"""Home and the ticket queue (the ticket page is in ticket_page.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.service import list_staff
from franchise.approvals.models import ApprovalRequest
from franchise.clients.service import list_clients
from franchise.errors import InvalidInput
from franchise.tickets.models import STATUSES, Ticket
from franchise.web.auth import CurrentUser, check_csrf
from franchise.web.deps import DbSession
from franchise.web.templating import render, route_exists

router = APIRouter(dependencies=[Depends(check_csrf)])
QUEUE_LIMIT = 100
CLOSED = ("resolved", "closed")
View = Literal["all", "mine", "unassigned", "approval", "escalated"]
VIEWS: tuple[tuple[View, str], ...] = (
    ("all", "All"),
    ("mine", "Mine"),
    ("unassigned", "Unassigned"),
    ("approval", "Waiting on approval"),
    ("escalated", "Escalated"),
)


@router.get("/")
def home(request: Request, user: CurrentUser) -> Response:
    wants_dashboard = user.role in ("owner", "admin")
    target = "/dashboard" if wants_dashboard and route_exists(request, "/dashboard") else "/queue"
    return RedirectResponse(target, status_code=303)


def queue_query(
    *, view: View, staff_id: int, status: str, search: str, limit: int
) -> Select[Ticket]:
    """tickets.service.list_tickets has no assignee or "open" filter yet; this mirrors it with
    them and should move there (see the web foundation notes)."""
    query = select(Ticket)
    if view == "mine":
        query = query.where(Ticket.assignee_id == staff_id)
    elif view == "unassigned":
        query = query.where(Ticket.assignee_id.is_(None))
    elif view == "approval":
        # The status says so while a request waits; the pending request is the truth.
        pending = select(ApprovalRequest.ticket_id).where(ApprovalRequest.status == "pending")
        query = query.where(or_(Ticket.status == "waiting_on_approval", Ticket.id.in_(pending)))
    elif view == "escalated":
        query = query.where(Ticket.status == "escalated")
    if status == "open":
        query = query.where(Ticket.status.not_in(CLOSED))
    elif status != "any":
        if status not in STATUSES:
            raise InvalidInput(f"unknown status '{status}' (use open, any, {', '.join(STATUSES)})")
        query = query.where(Ticket.status == status)
    text = search.strip()
    if text:
        like = f"%{text.lower()}%"
        matches: list[ColumnElement[bool]] = [Ticket.title.ilike(like), Ticket.body.ilike(like)]
        number = text.removeprefix("#")
        if number.isdigit() and len(number) < 10:
            matches.append(Ticket.id == int(number))
        query = query.where(or_(*matches))
    return query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)


def _names(session: Session) -> tuple[dict[int, str], dict[int, str]]:
    """Client and staff names by id: both lists are short (hundreds at most) for an MSP."""
    clients = {c.id: c.name for c in list_clients(session)}
    staff = {s.id: s.name for s in list_staff(session)}
    return clients, staff


@router.get("/queue")
def queue_page(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    view: View = "all",
    status: str = "open",
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    query = queue_query(
        view=view, staff_id=user.staff_id, status=status, search=q, limit=QUEUE_LIMIT
    )
    tickets = list(session.scalars(query))
    clients, staff = _names(session)
    context = {
        "tickets": tickets,
        "clients": clients,
        "staff": staff,
        "view": view,
        "views": VIEWS,
        "status": status,
        "statuses": STATUSES,
        "q": q,
        "limit": QUEUE_LIMIT,
    }
    # htmx asks for the results only when the filters change; a plain request, or htmx
    # restoring a page from history, gets the whole page.
    partial = request.headers.get("hx-request") and not request.headers.get(
        "hx-history-restore-request"
    )
    response = render(request, "queue_rows.html" if partial else "queue.html", context)
    response.headers["Vary"] = "HX-Request"
    return response
