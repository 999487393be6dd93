"""Setting a password from a one-time reset link an administrator handed over.

Public by token, like the signed action links: the link itself is the credential (signed,
single use, expiring; accounts/reset_links.py). A form post needs the same token, so a
cross-site post cannot forge one without already holding the link.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from franchise.accounts.password_policy import MIN_LENGTH
from franchise.api.deps import DbSession
from franchise.errors import FranchiseError, InvalidInput
from franchise.flows.staff import reset_with_link, staff_for_reset
from franchise.orgsettings.secrets import effective_settings
from franchise.web.templating import render

router = APIRouter()
MAX_TOKEN = 200


def _page(
    request: Request,
    *,
    token: str,
    name: str = "",
    error: str = "",
    done: bool = False,
    status: int = 200,
) -> Response:
    context = {"token": token, "name": name, "error": error, "done": done, "min": MIN_LENGTH}
    response = render(request, "reset_password.html", context, status=status)
    # The token is in the path: keep it out of other sites' logs.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/reset/{token}")
def reset_form(request: Request, session: DbSession, token: str) -> Response:
    settings = effective_settings(session, request.app.state.settings)
    try:
        staff = staff_for_reset(session, settings, token[:MAX_TOKEN])
    except FranchiseError as exc:
        return _page(request, token="", error=exc.message, status=exc.status)
    return _page(request, token=token, name=staff.name)


@router.post("/reset/{token}")
def reset_submit(
    request: Request,
    session: DbSession,
    token: str,
    password: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    settings = effective_settings(session, request.app.state.settings)
    try:
        staff = staff_for_reset(session, settings, token[:MAX_TOKEN])
    except FranchiseError as exc:
        return _page(request, token="", error=exc.message, status=exc.status)
    try:
        if password != confirm:
            raise InvalidInput("the two passwords are not the same")
        reset_with_link(session, settings, token[:MAX_TOKEN], password)
    except FranchiseError as exc:
        return _page(request, token=token, name=staff.name, error=exc.message, status=exc.status)
    return _page(request, token="", name=staff.name, done=True)
