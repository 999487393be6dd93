"""Home and the ticket queue (the ticket page is in ticket_page.py)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.service import list_staff
from franchise.api.deps import DbSession
from franchise.clients.service import list_clients
from franchise.db import MAX_ID
from franchise.errors import InvalidInput, NotFound
from franchise.escalation.service import current_map
from franchise.queue.service import DEFAULT_SORT, MAX_CURSOR, MAX_SEARCH, QueueQuery, find_tickets
from franchise.runbooks.definition import CATEGORIES
from franchise.tickets.models import PRIORITIES, STATUSES, Ticket
from franchise.tickets.service import CLOSED, get_ticket
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
# The orders a phone offers in a list, where the table's sortable headers are not shown.
SORT_CHOICES = (
    ("-created", "Newest first"),
    ("created", "Oldest first"),
    ("-updated", "Recently updated"),
    ("updated", "Least recently updated"),
    ("-priority", "Highest priority"),
    ("priority", "Lowest priority"),
    ("title", "Title A to Z"),
    ("-title", "Title Z to A"),
    ("-id", "Highest number"),
    ("id", "Lowest number"),
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


def _numbered(session: Session, q: str) -> Ticket | None:
    """The ticket a search for its number ("#722" or "722") names, if there is one."""
    text = q.strip().removeprefix("#")
    if not text.isdecimal() or len(text) > 10:
        return None
    try:
        return get_ticket(session, text)
    except NotFound:
        return None


def _status_shows(status: str, ticket_status: str) -> bool:
    """Whether the status filter lets a ticket of this status through."""
    if status == "open":
        return ticket_status not in CLOSED
    return status in ("", "any") or status == ticket_status


Param = Annotated[str, Query(max_length=40)]


@router.get("/queue")
def queue_page(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    view: View = "all",
    status: Param = "open",
    q: Annotated[str, Query(max_length=MAX_SEARCH)] = "",
    client: Param = "",
    assignee: Param = "",
    level: Param = "",
    category: Param = "",
    priority: Param = "",
    sort: Param = DEFAULT_SORT,
    cursor: Annotated[str, Query(max_length=MAX_CURSOR)] = "",
) -> Response:
    if client.strip() and (not client.strip().isdecimal() or int(client) > MAX_ID):
        raise InvalidInput(f"client '{client}' is not a client id")
    query = QueueQuery(
        view=view,
        status=status,
        q=q,
        client=int(client) if client.strip() else None,
        assignee=assignee.strip(),
        level=level.strip(),
        category=category.strip(),
        priority=priority.strip(),
        sort=sort.strip() or DEFAULT_SORT,
    )
    found = find_tickets(
        session, query, staff_id=user.staff_id, cursor=cursor or None, limit=QUEUE_LIMIT
    )
    clients, staff = _names(session)
    numbered = _numbered(session, q)
    # The ticket a "#722" search names, when the filters leave it out (most often: it is
    # resolved and the queue shows open tickets): the page says so and links to it.
    hidden = numbered if numbered is not None and numbered not in found.tickets else None
    # The view's own address without the cursor: sort links and "first page" start over.
    params = {
        k: v
        for k, v in {
            "view": view,
            "status": status,
            "q": q,
            "client": client,
            "assignee": assignee,
            "level": level,
            "category": category,
            "priority": priority,
            "sort": query.sort,
        }.items()
        if v and (k, v) not in (("view", "all"), ("sort", DEFAULT_SORT))
    }

    def url(**changes: str) -> str:
        merged = {**params, **changes}
        shown = {k: v for k, v in merged.items() if v}
        return "/queue" + ("?" + urlencode(shown) if shown else "")

    context = {
        "tickets": found.tickets,
        "next_cursor": found.next_cursor,
        "cursor": cursor,
        "url": url,
        "query": query,
        "clients": clients,
        "staff": staff,
        "view": view,
        "views": VIEWS,
        "sort_choices": SORT_CHOICES,
        "status": status,
        "statuses": STATUSES,
        "categories": CATEGORIES,
        "priorities": PRIORITIES,
        "levels": current_map(session).map.levels,
        "q": q,
        "limit": QUEUE_LIMIT,
        "hidden_match": None if cursor else hidden,
        "hidden_by_status": hidden is not None and not _status_shows(status, hidden.status),
        "any_status_url": "/queue?" + urlencode({"q": q, "status": "any"}),
    }
    # htmx asks for the results only when the filters change; a plain request, or htmx
    # restoring a page from history, gets the whole page.
    partial = request.headers.get("hx-request") and not request.headers.get(
        "hx-history-restore-request"
    )
    response = render(request, "queue_rows.html" if partial else "queue.html", context)
    response.headers["Vary"] = "HX-Request"
    return response
