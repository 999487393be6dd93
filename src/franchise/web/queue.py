"""Home and the ticket queue (the ticket page is in ticket_page.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.service import list_staff
from franchise.api.deps import DbSession
from franchise.clients.service import list_clients
from franchise.tickets.models import STATUSES
from franchise.tickets.service import list_tickets
from franchise.web.auth import CurrentUser, check_csrf
from franchise.web.templating import render, route_exists

router = APIRouter(dependencies=[Depends(check_csrf)])
QUEUE_LIMIT = 100
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
    tickets = list_tickets(
        session, view=view, staff_id=user.staff_id, status=status, search=q, limit=QUEUE_LIMIT
    )
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
