"""The Clients page and a client's page: its tickets, endpoints, contacts, profile and tier.

Everyone signed in reads them and may type a profile fact; the owner, admins and service
managers add and change clients and contacts (clients.service.WRITERS). A refused form is
shown again on the page with what was typed and the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.service import list_staff
from franchise.accounts.sessions import SignedIn
from franchise.api.deps import DbSession
from franchise.clients import contacts, facts
from franchise.clients.models import TIERS, Client, ClientContact, Endpoint
from franchise.clients.service import (
    WRITERS,
    add_client,
    archive_client,
    check_writer,
    edit_client,
    get_client,
    list_clients,
)
from franchise.errors import FranchiseError, InvalidInput
from franchise.flows.client_contacts import remove_contact
from franchise.tickets.models import Ticket
from franchise.tickets.service import CLOSED, client_tickets
from franchise.web.auth import CurrentUser, ManagerUser, check_csrf
from franchise.web.templating import render
from franchise.web.ticket_view import staff_row

router = APIRouter(dependencies=[Depends(check_csrf)])
T = TypeVar("T")
Short = Annotated[str, Form(max_length=320)]
ENDPOINTS_SHOWN = 200


def require_writer(user: CurrentUser) -> SignedIn:
    check_writer(user.role)
    return user


WriterUser = Annotated[SignedIn, Depends(require_writer)]


def _act(session: Session, action: Callable[[], T]) -> tuple[T | None, FranchiseError | None]:
    """One service call in a savepoint: a refusal leaves nothing half-written."""
    try:
        with session.begin_nested():
            return action(), None
    except FranchiseError as exc:
        return None, exc


def _endpoints(text: str) -> int:
    text = text.strip() or "0"
    if not text.isdecimal() or len(text) > 9:
        raise InvalidInput(f"endpoints must be a whole number, not '{text}'")
    return int(text)


# --- the list ---------------------------------------------------------------------------


def _list_page(
    request: Request,
    session: Session,
    user: SignedIn,
    *,
    archived: bool,
    form: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    clients = list_clients(session, include_archived=archived)
    context = {
        "clients": clients,
        "open_counts": _open_counts(session),
        "contact_counts": _contact_counts(session),
        "archived": archived,
        "tiers": TIERS,
        "can_edit": user.role in WRITERS,
        "form": form or {"name": "", "tier": "standard", "endpoints": "0"},
        "error": error,
    }
    return render(request, "clients.html", context, status=status)


def _open_counts(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(Ticket.client_id, func.count())
        .where(Ticket.client_id.is_not(None), Ticket.status.not_in(CLOSED))
        .group_by(Ticket.client_id)
    )
    return {int(c): int(n) for c, n in rows if c is not None}


def _contact_counts(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(ClientContact.client_id, func.count()).group_by(ClientContact.client_id)
    )
    return {int(c): int(n) for c, n in rows}


@router.get("/clients")
def clients_page(
    request: Request, session: DbSession, user: CurrentUser, archived: bool = False
) -> Response:
    return _list_page(request, session, user, archived=archived)


@router.post("/clients")
def clients_add(
    request: Request,
    session: DbSession,
    user: WriterUser,
    name: Annotated[str, Form(max_length=200)] = "",
    tier: Annotated[str, Form(max_length=32)] = "standard",
    endpoints: Annotated[str, Form(max_length=12)] = "0",
) -> Response:
    client, error = _act(
        session, lambda: add_client(session, name=name, tier=tier, endpoints=_endpoints(endpoints))
    )
    if error is not None:
        form = {"name": name, "tier": tier, "endpoints": endpoints}
        return _list_page(
            request,
            session,
            user,
            archived=False,
            form=form,
            error=error.message,
            status=error.status,
        )
    assert client is not None
    return RedirectResponse(f"/clients/{client.id}?saved=client", status_code=303)


# --- one client ---------------------------------------------------------------------------


def _client_page(
    request: Request,
    session: Session,
    user: SignedIn,
    client: Client,
    *,
    error: tuple[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    tickets = client_tickets(session, client.id, limit=50)
    endpoints = list(
        session.scalars(
            select(Endpoint)
            .where(Endpoint.client_id == client.id)
            .order_by(Endpoint.hostname)
            .limit(ENDPOINTS_SHOWN)
        )
    )
    people = contacts.list_contacts(session, client)
    context = {
        "client": client,
        "tickets": tickets,
        "requesters": {c.id: c.name for c in people},
        "staff": {s.id: s.name for s in list_staff(session)},
        "endpoints": endpoints,
        "endpoints_shown": ENDPOINTS_SHOWN,
        "contacts": people,
        "facts": facts.list_facts(session, client),
        "tiers": TIERS,
        "can_edit": user.role in WRITERS,
        "can_unset_fact": user.is_manager,
        "error_panel": error[0] if error else "",
        "error": error[1] if error else "",
        "form": form or {},
        "saved": request.query_params.get("saved", ""),
    }
    return render(request, "client.html", context, status=status)


def _done(
    request: Request,
    session: Session,
    user: SignedIn,
    client_id: int,
    panel: str,
    error: FranchiseError | None,
    form: dict[str, Any] | None = None,
) -> Response:
    if error is not None:
        client = get_client(session, client_id)
        return _client_page(
            request,
            session,
            user,
            client,
            error=(panel, error.message),
            form=form,
            status=error.status,
        )
    return RedirectResponse(f"/clients/{client_id}?saved={panel}#{panel}", status_code=303)


@router.get("/clients/{client_id}")
def client_page(
    request: Request, session: DbSession, user: CurrentUser, client_id: int
) -> Response:
    return _client_page(request, session, user, get_client(session, client_id))


@router.post("/clients/{client_id}/edit")
def client_edit(
    request: Request,
    session: DbSession,
    user: WriterUser,
    client_id: int,
    name: Annotated[str, Form(max_length=200)] = "",
    tier: Annotated[str, Form(max_length=32)] = "",
    endpoints: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    client = get_client(session, client_id)
    _, error = _act(
        session,
        lambda: edit_client(
            session,
            client,
            name=name or None,
            tier=tier or None,
            endpoints=_endpoints(endpoints) if endpoints.strip() else None,
        ),
    )
    form = {"name": name, "tier": tier, "endpoints": endpoints}
    return _done(request, session, user, client_id, "client", error, form)


@router.post("/clients/{client_id}/archive")
def client_archive(
    request: Request,
    session: DbSession,
    user: WriterUser,
    client_id: int,
    archived: Annotated[str, Form(max_length=3)] = "yes",
) -> Response:
    client = get_client(session, client_id)
    _, error = _act(session, lambda: archive_client(session, client, archived=archived == "yes"))
    return _done(request, session, user, client_id, "client", error)


def _contact_fields(
    name: str,
    email: str,
    phone: str,
    mobile: str,
    role: str,
    primary: str,
    vip: str,
    approves_spend: str,
) -> contacts.ContactFields:
    # Unticked boxes are not sent: a form always says every flag.
    return contacts.ContactFields(
        name=name,
        email=email,
        phone=phone,
        mobile=mobile,
        role=role,
        primary=primary == "yes",
        vip=vip == "yes",
        approves_spend=approves_spend == "yes",
    )


@router.post("/clients/{client_id}/contacts")
def contact_add(
    request: Request,
    session: DbSession,
    user: WriterUser,
    client_id: int,
    name: Annotated[str, Form(max_length=200)] = "",
    email: Short = "",
    phone: Short = "",
    mobile: Short = "",
    role: Short = "",
    primary: Annotated[str, Form(max_length=3)] = "",
    vip: Annotated[str, Form(max_length=3)] = "",
    approves_spend: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    client = get_client(session, client_id)
    fields = _contact_fields(name, email, phone, mobile, role, primary, vip, approves_spend)
    if not primary:
        # The first contact becomes the primary one unless the box says otherwise.
        fields = replace(fields, primary=None)
    _, error = _act(session, lambda: contacts.add_contact(session, client, fields))
    form = {
        "name": name,
        "email": email,
        "phone": phone,
        "mobile": mobile,
        "role": role,
        "primary": primary == "yes",
        "vip": vip == "yes",
        "approves_spend": approves_spend == "yes",
    }
    return _done(request, session, user, client_id, "contacts", error, form)


@router.post("/clients/{client_id}/contacts/{contact_id}")
def contact_edit(
    request: Request,
    session: DbSession,
    user: WriterUser,
    client_id: int,
    contact_id: int,
    name: Annotated[str, Form(max_length=200)] = "",
    email: Short = "",
    phone: Short = "",
    mobile: Short = "",
    role: Short = "",
    primary: Annotated[str, Form(max_length=3)] = "",
    vip: Annotated[str, Form(max_length=3)] = "",
    approves_spend: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    contact = contacts.get_contact(session, get_client(session, client_id), contact_id)
    fields = _contact_fields(name, email, phone, mobile, role, primary, vip, approves_spend)
    _, error = _act(session, lambda: contacts.edit_contact(session, contact, fields))
    return _done(request, session, user, client_id, "contacts", error)


@router.post("/clients/{client_id}/contacts/{contact_id}/remove")
def contact_remove(
    request: Request, session: DbSession, user: WriterUser, client_id: int, contact_id: int
) -> Response:
    contact = contacts.get_contact(session, get_client(session, client_id), contact_id)
    _, error = _act(session, lambda: remove_contact(session, contact))
    return _done(request, session, user, client_id, "contacts", error)


@router.post("/clients/{client_id}/facts")
def fact_set(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    client_id: int,
    key: Annotated[str, Form(max_length=64)] = "",
    value: Annotated[str, Form(max_length=facts.MAX_VALUE + 100)] = "",
) -> Response:
    client = get_client(session, client_id)
    me = staff_row(session, user)
    _, error = _act(session, lambda: facts.set_fact(session, client, key, value, by=me))
    return _done(request, session, user, client_id, "profile", error, {"key": key, "value": value})


@router.post("/clients/{client_id}/facts/remove")
def fact_remove(
    request: Request,
    session: DbSession,
    user: ManagerUser,
    client_id: int,
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    client = get_client(session, client_id)
    _, error = _act(session, lambda: facts.unset_fact(session, client, key))
    return _done(request, session, user, client_id, "profile", error)
