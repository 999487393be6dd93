"""Your account: the second factor (authenticator app, recovery codes) and your sessions."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from franchise.accounts.mfa import (
    confirm_totp,
    has_totp,
    pending_secret,
    provisioning_uri,
    start_totp,
)
from franchise.accounts.models import Staff
from franchise.accounts.passkeys import list_passkeys
from franchise.accounts.password_policy import MIN_LENGTH
from franchise.accounts.sessions import (
    find_web_session,
    list_sessions,
    revoke_sessions,
    start_session,
)
from franchise.api.deps import DbSession
from franchise.errors import InvalidInput, NotAuthenticated
from franchise.flows.staff import change_own_password
from franchise.orgsettings.service import get_setting
from franchise.web.auth import (
    SESSION_COOKIE,
    CurrentUser,
    check_csrf,
    clear_session_cookie,
    set_session_cookie,
)
from franchise.web.login import client_ip, user_agent
from franchise.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)])


def _page(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    *,
    error: str = "",
    password_error: str = "",
    password_changed: bool = False,
    recovery_codes: list[str] | None = None,
    status: int = 200,
) -> Response:
    settings = request.app.state.settings
    secret = pending_secret(session, settings, user.staff_id)
    qr_svg = uri = ""
    if secret:
        org = str(get_setting(session, "org_name"))
        uri = provisioning_uri(secret, email=user.email, issuer=f"Franchise ({org})")
        import segno  # only while someone enrols an authenticator app

        qr_svg = segno.make(uri, error="m").svg_data_uri(scale=4)
    plain = request.cookies.get(SESSION_COOKIE, "")
    current = find_web_session(session, plain) if plain else None
    staff = session.get(Staff, user.staff_id)
    context = {
        "enrolled": has_totp(session, user.staff_id),
        "must_enrol": user.must_enrol,
        "pending_secret": secret or "",
        "qr_svg": qr_svg,
        "error": error,
        "password_error": password_error,
        "password_changed": password_changed or request.query_params.get("password") == "changed",
        "has_password": bool(staff.password_hash) if staff is not None else False,
        "min_password": MIN_LENGTH,
        "recovery_codes": recovery_codes or [],
        "sessions": list_sessions(session, user.staff_id),
        "current_id": current.id if current else None,
        "passkeys": list_passkeys(session, user.staff_id),
    }
    return render(request, "account.html", context, status=status)


@router.get("/account")
def account_page(request: Request, session: DbSession, user: CurrentUser) -> Response:
    return _page(request, session, user)


@router.post("/account/totp/start")
def totp_start(request: Request, session: DbSession, user: CurrentUser) -> Response:
    staff = session.get(Staff, user.staff_id)
    if staff is None:
        raise NotAuthenticated("your account no longer exists; sign in again")
    try:
        start_totp(session, request.app.state.settings, staff)
    except InvalidInput as exc:
        return _page(request, session, user, error=exc.message, status=exc.status)
    return RedirectResponse("/account#totp", status_code=303)


@router.post("/account/totp/confirm")
def totp_confirm(
    request: Request, session: DbSession, user: CurrentUser, code: Annotated[str, Form()] = ""
) -> Response:
    staff = session.get(Staff, user.staff_id)
    if staff is None:
        raise NotAuthenticated("your account no longer exists; sign in again")
    try:
        codes = confirm_totp(session, request.app.state.settings, staff, code[:64])
    except InvalidInput as exc:
        return _page(request, session, user, error=exc.message, status=exc.status)
    plain = request.cookies.get(SESSION_COOKIE, "")
    current = find_web_session(session, plain) if plain else None
    if current is not None:
        current.stage = "full"
    return _page(request, session, replace(user, must_enrol=False), recovery_codes=codes)


@router.post("/account/password")
def change_password(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    current: Annotated[str, Form()] = "",
    new: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Change your own password (the current one is required). Every session of yours ends,
    other browsers included; this one goes on with a fresh session."""
    staff = session.get(Staff, user.staff_id)
    assert staff is not None
    try:
        if new != confirm:
            raise InvalidInput("the two new passwords are not the same")
        change_own_password(session, staff, current, new)
    except InvalidInput as exc:
        return _page(request, session, user, password_error=exc.message, status=exc.status)
    _row, plain = start_session(
        session, staff, ip=client_ip(request), user_agent=user_agent(request)
    )
    response = RedirectResponse("/account?password=changed#password", status_code=303)
    set_session_cookie(request, response, plain)
    return response


@router.post("/account/sessions/revoke-all")
def sign_out_everywhere(request: Request, session: DbSession, user: CurrentUser) -> Response:
    """Every session of yours ends, this one too (a lost laptop, a shared PC left signed in)."""
    count = revoke_sessions(session, user.staff_id)
    request.state.signed_in = None  # the page below is shown to someone no longer signed in
    response = render(request, "signed_out.html", {"count": count})
    clear_session_cookie(request, response)
    return response
