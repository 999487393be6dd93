"""Sign in with the organisation's OpenID Connect provider (Entra ID or another)."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from starlette.responses import Response

from franchise.accounts import sso
from franchise.accounts.models import Staff
from franchise.accounts.signins import record_sign_in
from franchise.api.deps import DbSession
from franchise.web.auth import is_https
from franchise.web.login import _login_page, client_ip, safe_next, signed_in_response, user_agent

router = APIRouter()
FLOW_COOKIE = "franchise_sso"


def _redirect_uri(request: Request) -> str:
    configured: str = request.app.state.settings.oidc_redirect_uri
    return configured or str(request.url_for("sso_callback"))


@router.get("/login/sso")
def sso_start(request: Request, next: str = "/") -> Response:
    settings = request.app.state.settings
    if not sso.sso_enabled(settings):
        return RedirectResponse("/login", status_code=303)
    try:
        config = sso.discover(settings)
    except sso.SsoRefused as exc:
        return _login_page(request, next_url=safe_next(next), error=exc.message, status=502)
    url, flow = sso.start(
        settings, config, redirect_uri=_redirect_uri(request), next_url=safe_next(next)
    )
    response = RedirectResponse(url, status_code=303)
    # Lax: the provider sends the browser back with a top-level GET, which carries it.
    response.set_cookie(
        FLOW_COOKIE,
        flow.seal(settings),
        max_age=sso.FLOW_SECONDS,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/login",
    )
    return response


@router.get("/login/sso/callback", name="sso_callback")
def sso_callback(
    request: Request, session: DbSession, code: str = "", state: str = "", error: str = ""
) -> Response:
    settings = request.app.state.settings
    ip, agent = client_ip(request), user_agent(request)
    email = ""
    try:
        flow = sso.Flow.unseal(settings, request.cookies.get(FLOW_COOKIE, ""))
        if error:
            raise sso.SsoRefused(f"the sign-in provider answered: {error[:100]}")
        if not state or not secrets.compare_digest(state, flow.state):
            raise sso.SsoRefused("the sign-in answer does not belong to this browser (state)")
        # Every network call happens here, before the database is read.
        config = sso.discover(settings)
        id_token = sso.exchange(
            settings, config, code=code, redirect_uri=_redirect_uri(request), verifier=flow.verifier
        )
        email = sso.verify_id_token(
            id_token,
            key_set=sso.keys(config),
            issuer=str(config["issuer"]),
            client_id=settings.oidc_client_id,
            nonce=flow.nonce,
        )
        staff = session.scalar(select(Staff).where(Staff.email == email))
        if staff is None:
            raise sso.SsoRefused(
                f"{email} is not on the staff list here; an owner or admin adds staff first"
            )
        if not staff.active:
            raise sso.SsoRefused(f"the account of {email} is deactivated")
    except sso.SsoRefused as exc:
        record_sign_in(
            session, email=email, method="sso", outcome="failure",
            reason=exc.message, ip=ip, user_agent=agent,
        )  # fmt: skip
        response = _login_page(request, next_url="/", error=exc.message, status=403)
        response.delete_cookie(FLOW_COOKIE, path="/login")
        return response
    response = signed_in_response(
        request, session, staff, next_url=flow.next_url, method="sso", provider_checked=True
    )
    response.delete_cookie(FLOW_COOKIE, path="/login")
    return response
