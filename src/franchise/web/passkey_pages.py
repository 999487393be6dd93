"""Passkey ceremonies: add one on the account page; use one to sign in or as second factor."""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from franchise.accounts import passkeys
from franchise.accounts.models import Staff
from franchise.accounts.sessions import MFA_DUE, complete_session, find_web_session, start_session
from franchise.accounts.signins import record_sign_in
from franchise.api.deps import DbSession
from franchise.errors import InvalidInput, NotAuthenticated
from franchise.orgsettings.sealing import Unsealable, seal, unseal
from franchise.orgsettings.service import get_setting
from franchise.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfRefused,
    CurrentUser,
    is_https,
    max_age,
    set_session_cookie,
)
from franchise.web.login import client_ip, safe_next, user_agent

router = APIRouter()
CHALLENGE_COOKIE = "franchise_passkey"
CHALLENGE_SECONDS = 300


def _relying_party(request: Request) -> tuple[str, str]:
    """The RP id (this site's host name) and the origin the browser reports."""
    return request.url.hostname or "", f"{request.url.scheme}://{request.url.netloc}"


def _keep_challenge(request: Request, response: Response, purpose: str, challenge: bytes) -> None:
    data = {"p": purpose, "c": base64.b64encode(challenge).decode(), "t": time.time()}
    response.set_cookie(
        CHALLENGE_COOKIE,
        seal(request.app.state.settings, json.dumps(data)),
        max_age=CHALLENGE_SECONDS,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        path="/",
    )


def _challenge(request: Request, purpose: str) -> bytes:
    try:
        data = json.loads(
            unseal(request.app.state.settings, request.cookies.get(CHALLENGE_COOKIE, ""))
        )
    except (Unsealable, ValueError):
        raise InvalidInput("this passkey request expired; try again") from None
    if data.get("p") != purpose or time.time() - float(data.get("t", 0)) > CHALLENGE_SECONDS:
        raise InvalidInput("this passkey request expired; try again")
    return base64.b64decode(data["c"])


def _check_header_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get("x-csrf-token", "")
    if not expected or not secrets.compare_digest(sent, expected):
        raise CsrfRefused()


def _options_response(request: Request, options: str, purpose: str, challenge: bytes) -> Response:
    response = Response(
        options, media_type="application/json", headers={"Cache-Control": "no-store"}
    )
    _keep_challenge(request, response, purpose, challenge)
    return response


@router.post("/account/passkeys/options")
def add_options(request: Request, session: DbSession, user: CurrentUser) -> Response:
    _check_header_csrf(request, user.csrf_token)
    staff = session.get(Staff, user.staff_id)
    if staff is None:
        raise NotAuthenticated("your account no longer exists; sign in again")
    rp_id, _origin = _relying_party(request)
    org = str(get_setting(session, "org_name"))
    options, challenge = passkeys.registration_options(
        session, staff, rp_id=rp_id, rp_name=f"Franchise ({org})"
    )
    return _options_response(request, options, "register", challenge)


@router.post("/account/passkeys")
async def add_passkey(request: Request, session: DbSession, user: CurrentUser) -> Response:
    _check_header_csrf(request, user.csrf_token)
    credential = passkeys.parse_credential(await request.body())
    staff = session.get(Staff, user.staff_id)
    if staff is None:
        raise NotAuthenticated("your account no longer exists; sign in again")
    rp_id, origin = _relying_party(request)
    passkeys.register(
        session,
        staff,
        credential,
        challenge=_challenge(request, "register"),
        rp_id=rp_id,
        origin=origin,
    )
    # A passkey is a second factor: someone sent to set one up is now through.
    current = find_web_session(session, request.cookies.get(SESSION_COOKIE, ""))
    if current is not None and current.stage != MFA_DUE:
        complete_session(current)
    response = JSONResponse({"ok": True})
    response.delete_cookie(CHALLENGE_COOKIE, path="/")
    return response


def _pending(request: Request, session: DbSession) -> Any:
    plain = request.cookies.get(SESSION_COOKIE, "")
    pending = find_web_session(session, plain, max_age=max_age(request)) if plain else None
    return pending if pending is not None and pending.stage == MFA_DUE else None


@router.post("/login/passkey/options")
def sign_in_options(request: Request, session: DbSession) -> Response:
    _check_header_csrf(request, request.cookies.get(LOGIN_CSRF_COOKIE, ""))
    pending = _pending(request, session)
    rp_id, _origin = _relying_party(request)
    options, challenge = passkeys.authentication_options(
        session, rp_id=rp_id, staff_id=pending.staff_id if pending is not None else None
    )
    return _options_response(request, options, "sign-in", challenge)


@router.post("/login/passkey")
async def sign_in(request: Request, session: DbSession, next: str = "/") -> Response:
    _check_header_csrf(request, request.cookies.get(LOGIN_CSRF_COOKIE, ""))
    credential = passkeys.parse_credential(await request.body())
    pending = _pending(request, session)
    rp_id, origin = _relying_party(request)
    ip, agent = client_ip(request), user_agent(request)
    try:
        staff_id = passkeys.authenticate(
            session,
            credential,
            challenge=_challenge(request, "sign-in"),
            rp_id=rp_id,
            origin=origin,
            staff_id=pending.staff_id if pending is not None else None,
        )
        staff = session.get(Staff, staff_id)
        if staff is None or not staff.active:
            raise InvalidInput("this passkey's account is not active")
    except InvalidInput as exc:
        record_sign_in(
            session, email="", method="passkey", outcome="failure",
            reason=exc.message, ip=ip, user_agent=agent,
        )  # fmt: skip
        raise
    record_sign_in(
        session, email=staff.email, method="passkey", outcome="success",
        staff_id=staff.id, ip=ip, user_agent=agent,
    )  # fmt: skip
    response = JSONResponse({"ok": True, "next": safe_next(next)})
    if pending is not None:
        complete_session(pending)
    else:
        # Signing in with the passkey alone: it proved possession and the device's PIN or
        # biometric, which is already two factors.
        _row, plain = start_session(session, staff, ip=ip, user_agent=agent)
        set_session_cookie(request, response, plain)
    response.delete_cookie(CHALLENGE_COOKIE, path="/")
    return response
