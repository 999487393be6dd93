"""Sign in (password, then a second factor where one is set up or required) and sign out."""

from __future__ import annotations

import secrets
from functools import cache
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from franchise.accounts.mfa import has_totp, mfa_required, use_recovery_code, verify_totp
from franchise.accounts.models import Staff
from franchise.accounts.passkeys import has_passkey
from franchise.accounts.password_policy import MAX_LENGTH
from franchise.accounts.passwords import hash_password, verify_password
from franchise.accounts.service import get_staff
from franchise.accounts.sessions import (
    ENROL_DUE,
    FULL,
    MFA_DUE,
    SignedIn,
    complete_session,
    end_session,
    find_web_session,
    start_session,
)
from franchise.accounts.signins import record_sign_in
from franchise.accounts.sso import password_allowed, sso_enabled
from franchise.api.deps import DbSession
from franchise.errors import InvalidInput, NotFound
from franchise.orgsettings.service import get_setting
from franchise.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfRefused,
    check_csrf,
    clear_session_cookie,
    get_signed_in,
    is_https,
    max_age,
    set_session_cookie,
)
from franchise.web.templating import render
from franchise.web.throttle import LoginThrottle

router = APIRouter()
MaybeSignedIn = Annotated[SignedIn | None, Depends(get_signed_in)]
MAX_EMAIL = 320


@cache
def _dummy_hash() -> str:
    # Checking a password against this when the address is unknown takes as long as a real
    # check, so response times do not reveal which e-mail addresses have accounts.
    return hash_password(secrets.token_urlsafe(16))


def safe_next(value: str | None) -> str:
    """Only paths on this site: `next=https://evil.example` must not become an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in value):
        return "/"
    return value


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")[:300]


def _login_page(
    request: Request,
    *,
    next_url: str,
    email: str = "",
    error: str = "",
    status: int = 200,
    template: str = "login.html",
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    settings = request.app.state.settings
    context = {
        "next": next_url,
        "email": email,
        "error": error,
        "login_csrf": token,
        "sso_name": settings.oidc_name if sso_enabled(settings) else "",
        "sso_only": settings.sso_only,
    }
    response = render(request, template, context, status=status)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/login",
    )
    return response


def _check_login_csrf(request: Request, csrf_token: str) -> None:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf_token, expected):
        raise CsrfRefused()


@router.get("/login")
def login_form(request: Request, signed_in: MaybeSignedIn, next: str = "/") -> Response:
    if signed_in is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next_url=safe_next(next))


@router.post("/login")
def login(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    _check_login_csrf(request, csrf_token)
    next_url = safe_next(next)
    if len(email) > MAX_EMAIL or len(password) > MAX_LENGTH:
        # Refused before anything is hashed, counted or logged: nothing of it is kept.
        error = f"An e-mail address has at most {MAX_EMAIL} characters, a password {MAX_LENGTH}."
        return _login_page(request, next_url=next_url, error=error, status=422)
    email = email.strip().lower()
    ip, agent = client_ip(request), user_agent(request)
    if not password_allowed(request.app.state.settings, email):
        record_sign_in(
            session, email=email, method="password", outcome="failure",
            reason="SSO only", ip=ip, user_agent=agent,
        )  # fmt: skip
        error = "Passwords are turned off here: use the single sign-on button."
        return _login_page(request, next_url=next_url, email=email, error=error, status=403)
    throttle: LoginThrottle = request.app.state.login_throttle
    wait = throttle.wait_seconds(session, ip=ip, account=email)
    if wait:
        record_sign_in(
            session, email=email, method="password", outcome="throttled", ip=ip, user_agent=agent
        )
        error = f"Too many failed sign-ins. Try again in {wait} seconds."
        response = _login_page(request, next_url=next_url, email=email, error=error, status=429)
        response.headers["Retry-After"] = str(wait)
        return response
    try:
        staff = get_staff(session, email) if "@" in email else None
    except (NotFound, InvalidInput):
        staff = None
    known = staff is not None and staff.active and staff.password_hash
    if staff is None or not known or not verify_password(staff.password_hash, password):
        if not known:
            verify_password(_dummy_hash(), password)
        throttle.failed(session, ip=ip, account=email)
        record_sign_in(
            session,
            email=email,
            method="password",
            outcome="failure",
            staff_id=staff.id if staff is not None else None,
            reason="unknown or inactive account" if not known else "wrong password",
            ip=ip,
            user_agent=agent,
        )
        error = "Wrong e-mail or password."
        return _login_page(request, next_url=next_url, email=email, error=error, status=400)
    throttle.succeeded(session, account=email)
    return signed_in_response(request, session, staff, next_url=next_url, method="password")


def signed_in_response(
    request: Request,
    session: DbSession,
    staff: Staff,
    *,
    next_url: str,
    method: str,
    provider_checked: bool = False,
) -> Response:
    """After the first factor: a full session, or one waiting for the second factor (or for
    one to be set up when the organisation requires it). `provider_checked`: single sign-on,
    where the identity provider enforces its own MFA policy (Entra Conditional Access)."""
    ip, agent = client_ip(request), user_agent(request)
    if provider_checked:
        stage = FULL
    elif has_totp(session, staff.id) or has_passkey(session, staff.id):
        stage = MFA_DUE
    elif mfa_required(str(get_setting(session, "require_mfa")), staff.role):
        stage = ENROL_DUE
    else:
        stage = FULL
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        end_session(session, old)
    _web_session, plain = start_session(session, staff, stage=stage, ip=ip, user_agent=agent)
    if stage != MFA_DUE:
        record_sign_in(
            session,
            email=staff.email,
            method=method,
            outcome="success",
            staff_id=staff.id,
            reason="second factor to be set up" if stage == ENROL_DUE else "",
            ip=ip,
            user_agent=agent,
        )
    target = {
        FULL: next_url,
        ENROL_DUE: "/account?enrol=1",
        MFA_DUE: "/login/mfa?" + urlencode({"next": next_url}),
    }[stage]
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, plain)
    return response


@router.get("/login/mfa")
def mfa_form(request: Request, session: DbSession, next: str = "/") -> Response:
    plain = request.cookies.get(SESSION_COOKIE, "")
    pending = find_web_session(session, plain, max_age=max_age(request)) if plain else None
    if pending is None or pending.stage != MFA_DUE:
        return RedirectResponse("/login", status_code=303)
    return _login_page(request, next_url=safe_next(next), template="login_mfa.html")


@router.post("/login/mfa")
def mfa_check(
    request: Request,
    session: DbSession,
    code: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    _check_login_csrf(request, csrf_token)
    next_url = safe_next(next)
    plain = request.cookies.get(SESSION_COOKIE, "")
    pending = find_web_session(session, plain, max_age=max_age(request)) if plain else None
    if pending is None or pending.stage != MFA_DUE:
        return RedirectResponse("/login", status_code=303)
    staff = session.get(Staff, pending.staff_id)
    if staff is None:
        return RedirectResponse("/login", status_code=303)
    ip, agent = client_ip(request), user_agent(request)
    throttle: LoginThrottle = request.app.state.login_throttle
    wait = throttle.wait_seconds(session, ip=ip, account=staff.email)
    if wait:
        error = f"Too many wrong codes. Try again in {wait} seconds."
        return _login_page(
            request, next_url=next_url, error=error, status=429, template="login_mfa.html"
        )
    code = code[:64]
    settings = request.app.state.settings
    method = "recovery" if "-" in code else "totp"
    ok = (
        use_recovery_code(session, staff.id, code)
        if method == "recovery"
        else verify_totp(session, settings, staff.id, code)
    )
    if not ok:
        throttle.failed(session, ip=ip, account=staff.email)
        record_sign_in(
            session,
            email=staff.email,
            method=method,
            outcome="failure",
            staff_id=staff.id,
            reason="wrong or reused code",
            ip=ip,
            user_agent=agent,
        )
        return _login_page(
            request,
            next_url=next_url,
            error="That code is not right (or was already used).",
            status=400,
            template="login_mfa.html",
        )
    throttle.succeeded(session, account=staff.email)
    complete_session(pending)
    record_sign_in(
        session,
        email=staff.email,
        method=method,
        outcome="success",
        staff_id=staff.id,
        ip=ip,
        user_agent=agent,
    )
    return RedirectResponse(next_url, status_code=303)


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request, session: DbSession) -> Response:
    plain = request.cookies.get(SESSION_COOKIE)
    if plain:
        end_session(session, plain)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(request, response)
    return response
