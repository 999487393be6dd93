"""Page-route guards: who is signed in, who may open manager pages, and the CSRF check."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.sessions import SignedIn, find_session
from franchise.api.deps import DbSession
from franchise.approvals.inbox import waiting_count
from franchise.ask.reply import may_reply, open_ask_count
from franchise.errors import InvalidInput, PermissionDenied
from franchise.orgsettings.service import get_config
from franchise.orgsettings.values import OrgConfig
from franchise.people import feed

SESSION_COOKIE = "franchise_session"
# Before sign-in there is no session to hold a CSRF token, so the login form uses a
# double-submit cookie instead: the form field must equal this cookie.
LOGIN_CSRF_COOKIE = "franchise_login_csrf"
# While a required second factor is not yet set up, only these open.
ENROLMENT_PATHS = ("/account", "/logout")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoginRequired(Exception):
    """Raised by page guards; rendered as a redirect to /login?next=..."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class EnrolmentRequired(Exception):
    """The organisation requires a second factor and this person has none yet."""


class CsrfRefused(PermissionDenied):
    code = "csrf_refused"

    def __init__(self) -> None:
        super().__init__(
            "This form expired or did not come from Franchise. Reload the page and try again."
        )


def max_age(request: Request) -> timedelta:
    return timedelta(hours=request.app.state.settings.session_max_age_hours)


def get_signed_in(request: Request, session: DbSession) -> SignedIn | None:
    plain = request.cookies.get(SESSION_COOKIE)
    signed_in = find_session(session, plain, max_age=max_age(request)) if plain else None
    # Templates read these from here so every page, error pages included, shows the user,
    # the nav, and times in the organisation's time zone.
    request.state.signed_in = signed_in
    if signed_in is not None:
        request.state.org_config = _org_config(session)
        request.state.approvals_waiting = waiting_count(
            session, signed_in.staff_id, signed_in.level, signed_in.is_manager
        )
        # Asks wait for the owner (or an admin answering for them) as approvals do: the
        # Dashboard link carries their count, so an ask is seen from every page.
        if may_reply(signed_in.level, signed_in.is_manager):
            request.state.asks_waiting = open_ask_count(session)
        request.state.notices_unread = _unread_notices(request, session, signed_in.staff_id)
    return signed_in


def _unread_notices(request: Request, session: Session, staff_id: int) -> int:
    """The person's unread notifications, once those about the page being opened are read
    (opening the ticket a notice is about is reading it)."""
    unread = feed.unread_count(session, staff_id)
    if (
        unread
        and request.method == "GET"
        and feed.read_where_shown(session, staff_id, request.url.path)
    ):
        unread = feed.unread_count(session, staff_id)
    return unread


def _org_config(session: Session) -> OrgConfig:
    try:
        return get_config(session)
    except InvalidInput:
        # A bad stored setting must not lock everyone out of every page (including the one
        # that fixes it); the settings page and CLI report it.
        return OrgConfig()


def current_user(
    request: Request, signed_in: Annotated[SignedIn | None, Depends(get_signed_in)]
) -> SignedIn:
    if signed_in is None:
        # After sign-in a GET can be repeated safely; a form post cannot, so go home instead.
        target = request.url.path if request.method == "GET" else "/"
        if request.method == "GET" and request.url.query:
            target += "?" + request.url.query
        raise LoginRequired(target)
    if signed_in.must_enrol and not request.url.path.startswith(ENROLMENT_PATHS):
        raise EnrolmentRequired()
    return signed_in


CurrentUser = Annotated[SignedIn, Depends(current_user)]


def require_manager(user: CurrentUser) -> SignedIn:
    if not user.is_manager:
        raise PermissionDenied("Only the owner or an admin may open this page.")
    return user


ManagerUser = Annotated[SignedIn, Depends(require_manager)]


async def check_csrf(request: Request, user: CurrentUser) -> None:
    """Router-wide: refuse any state-changing request whose token is not this session's."""
    if request.method not in UNSAFE_METHODS:
        return
    sent = request.headers.get("x-csrf-token") or await _form_token(request)
    if not sent or not secrets.compare_digest(sent, user.csrf_token):
        raise CsrfRefused()


async def _form_token(request: Request) -> str:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return ""
    value = (await request.form()).get("csrf_token")
    return value if isinstance(value, str) else ""


def is_https(request: Request) -> bool:
    return request.url.scheme == "https" or bool(request.app.state.settings.cookie_secure)


def set_session_cookie(request: Request, response: Response, plain: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        plain,
        # No max_age: the 12-hour expiry slides on the server, and a fixed cookie lifetime
        # would sign out someone in mid-shift. The server-side expiry is what counts.
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=is_https(request), path="/"
    )
