"""The Staff pages: owners and admins list staff, add new ones, and change, deactivate or
reactivate someone, hand their open tickets on and issue a password-reset link."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.models import LEVELS, ROLES, Staff
from franchise.accounts.password_policy import MIN_LENGTH
from franchise.accounts.service import add_staff, list_staff, list_tokens
from franchise.accounts.sessions import SignedIn, list_sessions
from franchise.accounts.signins import recent_sign_ins
from franchise.api.deps import DbSession
from franchise.db import MAX_ID
from franchise.errors import FranchiseError, InvalidInput, NotFound
from franchise.flows.staff import (
    ResetLink,
    deactivate_staff,
    issue_reset_link,
    open_tickets_of,
    reactivate_staff,
    reassign_open_tickets,
    update_staff,
)
from franchise.orgsettings.secrets import effective_settings
from franchise.people.notices import smtp_ready
from franchise.web.auth import ManagerUser, check_csrf
from franchise.web.people_pages import channel_rows
from franchise.web.templating import render
from franchise.wording import label, plural

router = APIRouter(dependencies=[Depends(check_csrf)])
MIN_PASSWORD = MIN_LENGTH
BLANK_FORM = {"name": "", "email": "", "role": "technician", "level": "L1"}


def _page(
    request: Request,
    session: Session,
    *,
    form: dict[str, str],
    error: str = "",
    added: str = "",
    status: int = 200,
) -> Response:
    context = {
        "staff": list_staff(session),
        "roles": ROLES,
        "levels": LEVELS,
        "form": form,
        "error": error,
        "added": added,
        "min_password": MIN_PASSWORD,
        "channel_rows": channel_rows(session, request.app.state.settings),
        "email_ready": smtp_ready(effective_settings(session, request.app.state.settings)),
        "channels_saved": request.query_params.get("channels", ""),
        "channel_error": request.query_params.get("channel_error", ""),
        "sign_ins": recent_sign_ins(session),
    }
    return render(request, "staff.html", context, status=status)


@router.get("/staff")
def staff_page(
    request: Request, session: DbSession, _user: ManagerUser, added: str = ""
) -> Response:
    return _page(request, session, form=BLANK_FORM, added=added)


@router.post("/staff")
def staff_add(
    request: Request,
    session: DbSession,
    _user: ManagerUser,
    name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    level: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    form = {"name": name, "email": email, "role": role, "level": level}
    try:
        if not password:
            raise InvalidInput("an initial password is needed (the person can change it later)")
        staff = add_staff(
            session, name=name, email=email, role=role, level=level, password=password
        )
    except FranchiseError as exc:
        # Shown on the form, with what was typed kept, rather than on a separate error page.
        return _page(request, session, form=form, error=exc.message, status=exc.status)
    return RedirectResponse("/staff?" + urlencode({"added": staff.email}), status_code=303)


def _member(session: Session, staff_id: int) -> Staff:
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound(f"no staff member {staff_id}")
    return staff


def _member_page(
    request: Request,
    session: Session,
    user: SignedIn,
    staff: Staff,
    *,
    error: str = "",
    notice: str = "",
    reset: ResetLink | None = None,
    status: int = 200,
) -> Response:
    context = {
        "member": staff,
        "roles": ROLES,
        "levels": LEVELS,
        "open_tickets": open_tickets_of(session, staff.id),
        "colleagues": _colleagues(session, staff),
        "is_self": staff.id == user.staff_id,
        "error": error,
        "notice": notice or request.query_params.get("done", "")[:300],
        "reset": reset,
        "tokens": [t for t, s in list_tokens(session) if s.id == staff.id and not t.revoked_at],
    }
    return render(request, "staff_member.html", context, status=status)


def _colleagues(session: Session, staff: Staff) -> list[Staff]:
    """Who may take someone's open tickets: active colleagues, those at the same level first
    and the owner level last (handing a leaver's queue to the owner is the interruption
    Franchise exists to avoid). The pickers start on "Choose…", so nobody is picked by
    default."""
    others = [s for s in list_staff(session) if s.active and s.id != staff.id]
    return sorted(others, key=lambda s: (s.level != staff.level, s.level == "owner", s.name))


@router.get("/staff/{staff_id}")
def member_page(request: Request, session: DbSession, user: ManagerUser, staff_id: int) -> Response:
    return _member_page(request, session, user, _member(session, staff_id))


def _back(staff_id: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"/staff/{staff_id}?" + urlencode({"done": done}), status_code=303)


@router.post("/staff/{staff_id}")
def member_edit(
    request: Request,
    session: DbSession,
    user: ManagerUser,
    staff_id: int,
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    level: Annotated[str, Form()] = "",
) -> Response:
    staff = _member(session, staff_id)
    try:
        update_staff(session, staff, name=name, role=role, level=level)
    except FranchiseError as exc:
        return _member_page(request, session, user, staff, error=exc.message, status=exc.status)
    return _back(staff_id, f"Saved {staff.name}: {label(staff.role)}, {staff.level}.")


@router.post("/staff/{staff_id}/deactivate")
def member_deactivate(
    request: Request,
    session: DbSession,
    user: ManagerUser,
    staff_id: int,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Without `confirm=yes` this only shows what deactivating will do (sessions, tokens, open
    tickets) with a second button that does it: it cannot be undone in full (tokens and reset
    links stay revoked), so one stray click must not do it. A plain form, so no JavaScript."""
    staff = _member(session, staff_id)
    by = session.get(Staff, user.staff_id)
    # Yourself or someone already gone: nothing to confirm, the service says what it refuses.
    if confirm != "yes" and staff.active and staff.id != user.staff_id:
        return _confirm_deactivate(request, session, staff)
    try:
        result = deactivate_staff(session, staff, by=by)
    except FranchiseError as exc:
        return _member_page(request, session, user, staff, error=exc.message, status=exc.status)
    done = (
        f"{staff.name} is deactivated: {plural(result.sessions_ended, 'session')} ended, "
        f"{plural(result.tokens_revoked, 'API token')} revoked."
    )
    if result.open_ticket_ids:
        done += f" {plural(len(result.open_ticket_ids), 'open ticket')} to hand on below."
    return _back(staff_id, done)


def _confirm_deactivate(request: Request, session: Session, staff: Staff) -> Response:
    context = {
        "member": staff,
        "sessions": len(list_sessions(session, staff.id)),
        "tokens": sum(
            1 for t, s in list_tokens(session) if s.id == staff.id and t.revoked_at is None
        ),
        "open_tickets": open_tickets_of(session, staff.id),
    }
    return render(request, "staff_deactivate.html", context)


@router.post("/staff/{staff_id}/reactivate")
def member_reactivate(
    request: Request, session: DbSession, _user: ManagerUser, staff_id: int
) -> Response:
    staff = reactivate_staff(session, _member(session, staff_id))
    return _back(staff_id, f"{staff.name} can sign in again.")


@router.post("/staff/{staff_id}/reassign")
def member_reassign(
    request: Request,
    session: DbSession,
    user: ManagerUser,
    staff_id: int,
    to: Annotated[str, Form()] = "",
    ticket_id: Annotated[str, Form()] = "",
) -> Response:
    staff = _member(session, staff_id)
    by = session.get(Staff, user.staff_id)
    try:
        if not to.strip().isdecimal() or int(to) > MAX_ID:
            raise InvalidInput("Reassign to: choose who takes the tickets")
        target = _member(session, int(to))
        only = (
            [int(ticket_id)] if ticket_id.strip().isdecimal() and int(ticket_id) <= MAX_ID else None
        )
        moved = reassign_open_tickets(session, staff, target, by=by, ticket_ids=only)
    except FranchiseError as exc:
        return _member_page(request, session, user, staff, error=exc.message, status=exc.status)
    return _back(staff_id, f"{plural(len(moved), 'ticket')} reassigned to {target.name}.")


@router.post("/staff/{staff_id}/reset-link")
def member_reset_link(
    request: Request, session: DbSession, user: ManagerUser, staff_id: int
) -> Response:
    staff = _member(session, staff_id)
    settings = effective_settings(session, request.app.state.settings)
    try:
        link = issue_reset_link(session, settings, staff)
    except FranchiseError as exc:
        return _member_page(request, session, user, staff, error=exc.message, status=exc.status)
    return _member_page(request, session, user, staff, reset=link)
