"""The new-ticket page: client, requester, title, body and priority, with the runbook
suggestion shown live as the title is typed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.sessions import SignedIn
from franchise.api.deps import DbSession
from franchise.clients.contacts import list_contacts
from franchise.clients.models import ClientContact
from franchise.clients.service import get_client, list_clients
from franchise.errors import FranchiseError
from franchise.flows.opening import open_ticket
from franchise.suggest.service import match
from franchise.tickets.models import PRIORITIES
from franchise.web.auth import CurrentUser, check_csrf
from franchise.web.templating import render
from franchise.web.ticket_view import staff_row

router = APIRouter(dependencies=[Depends(check_csrf)])
# Below this the words typed say too little to suggest anything worth reading.
MIN_SUGGEST_CHARS = 4


def _requesters(session: Session, client_ref: str) -> list[ClientContact]:
    """The chosen client's contacts (none when no client, or an unknown one, is chosen)."""
    if not client_ref.strip().isdecimal():
        return []
    try:
        return list_contacts(session, get_client(session, client_ref))
    except FranchiseError:
        return []


def _suggestions(session: Session, title: str, body: str) -> dict[str, Any]:
    text = f"{title}\n{body}".strip()
    if len(title.strip()) < MIN_SUGGEST_CHARS:
        return {"asked": False, "rows": [], "fits": False}
    found = match(session, text)
    return {"asked": True, "rows": found.suggestions, "fits": found.fits}


def _form_page(
    request: Request,
    session: Session,
    user: SignedIn,
    form: dict[str, str],
    *,
    error: str = "",
    status: int = 200,
) -> Response:
    context = {
        "form": form,
        "clients": list_clients(session, include_archived=False),
        "requesters": _requesters(session, form["client"]),
        "priorities": PRIORITIES,
        "suggestion": _suggestions(session, form["title"], form["body"]),
        "error": error,
    }
    return render(request, "ticket_new.html", context, status=status)


@router.get("/tickets/new")
def new_ticket_page(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    client: Annotated[str, Query(max_length=12)] = "",
    requester: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    form = {"client": client, "requester": requester, "title": "", "body": "", "priority": "normal"}
    return _form_page(request, session, user, form)


@router.post("/tickets/new")
def new_ticket_create(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    title: Annotated[str, Form(max_length=500)] = "",
    body: Annotated[str, Form(max_length=100_000)] = "",
    client: Annotated[str, Form(max_length=12)] = "",
    requester: Annotated[str, Form(max_length=12)] = "",
    priority: Annotated[str, Form(max_length=16)] = "normal",
) -> Response:
    form = {
        "client": client,
        "requester": requester,
        "title": title,
        "body": body,
        "priority": priority,
    }
    me = staff_row(session, user)
    try:
        with session.begin_nested():
            ticket, _ = open_ticket(
                session,
                title=title,
                body=body,
                client=client or None,
                requester=requester or None,
                priority=priority,
                source="web",
                actor=me,
            )
    except FranchiseError as exc:
        return _form_page(request, session, user, form, error=exc.message, status=exc.status)
    return RedirectResponse(f"/tickets/{ticket.id}", status_code=303)


@router.get("/tickets/new/suggest")
def new_ticket_suggest(
    request: Request,
    session: DbSession,
    _user: CurrentUser,
    title: Annotated[str, Query(max_length=500)] = "",
    body: Annotated[str, Query(max_length=5000)] = "",
) -> Response:
    """The runbook suggestion for what is typed so far (htmx swaps it in)."""
    context = {"suggestion": _suggestions(session, title, body)}
    return render(request, "partials/new_ticket_suggest.html", context)


@router.get("/tickets/new/requesters")
def new_ticket_requesters(
    request: Request,
    session: DbSession,
    _user: CurrentUser,
    client: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    """The requester picker for the chosen client (htmx swaps it in)."""
    context = {
        "requesters": _requesters(session, client),
        "form": {"requester": "", "client": client},
    }
    return render(request, "partials/new_ticket_requester.html", context)
