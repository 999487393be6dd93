"""Sign in and sign out."""

from __future__ import annotations

import secrets
from functools import cache
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from franchise.accounts.passwords import hash_password, verify_password
from franchise.accounts.service import get_staff
from franchise.errors import NotFound
from franchise.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfRefused,
    check_csrf,
    clear_session_cookie,
    get_signed_in,
    is_https,
    set_session_cookie,
)
from franchise.web.deps import DbSession
from franchise.web.sessions import SignedIn, end_session, start_session
from franchise.web.templating import render
from franchise.web.throttle import LoginThrottle

router = APIRouter()
MaybeSignedIn = Annotated[SignedIn | None, Depends(get_signed_in)]


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


def _login_page(
    request: Request, *, next_url: str, email: str = "", error: str = "", status: int = 200
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    context = {"next": next_url, "email": email, "error": error, "login_csrf": token}
    response = render(request, "login.html", context, status=status)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/login",
    )
    return response


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
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf_token, expected):
        raise CsrfRefused()
    email = email.strip().lower()
    next_url = safe_next(next)
    throttle: LoginThrottle = request.app.state.login_throttle
    wait = throttle.wait_seconds(session, email)
    if wait:
        minutes = (wait + 59) // 60
        error = f"Too many failed sign-ins for this address. Try again in {minutes} min."
        return _login_page(request, next_url=next_url, email=email, error=error, status=429)
    try:
        staff = get_staff(session, email) if "@" in email else None
    except NotFound:
        staff = None
    known = staff is not None and staff.active and staff.password_hash
    if staff is None or not known or not verify_password(staff.password_hash, password):
        if not known:
            verify_password(_dummy_hash(), password)
        throttle.failed(session, email)
        error = "Wrong e-mail or password."
        return _login_page(request, next_url=next_url, email=email, error=error, status=400)
    throttle.succeeded(session, email)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        end_session(session, old)
    _web_session, plain = start_session(session, staff)
    response = RedirectResponse(next_url, status_code=303)
    set_session_cookie(request, response, plain)
    return response


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request, session: DbSession) -> Response:
    plain = request.cookies.get(SESSION_COOKIE)
    if plain:
        end_session(session, plain)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(request, response)
    return response
