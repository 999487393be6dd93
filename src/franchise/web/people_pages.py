"""My notifications (the feed of what was sent to me, and my channels), the managers' channel
form on the Staff page, and the pages behind the signed links in notifications.

A link's GET page only says what will happen; its POST does it. The token in the URL is
the credential (like a signed webhook), so the link pages need no sign-in; when someone
*is* signed in in that browser, it must be the person the link was sent to.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.models import Staff
from franchise.accounts.service import list_staff
from franchise.accounts.sessions import SignedIn
from franchise.api.deps import DbSession
from franchise.errors import Conflict, FranchiseError, NotFound
from franchise.flows.action_links import apply_link, preview
from franchise.orgsettings.secrets import effective_settings
from franchise.people import feed, service
from franchise.people.models import KINDS
from franchise.people.notices import smtp_ready
from franchise.settings import Settings
from franchise.web.auth import CurrentUser, ManagerUser, check_csrf, get_signed_in
from franchise.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)])
links = APIRouter()


def _settings(request: Request) -> Settings:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings


def _me(session: Session, user: SignedIn) -> Staff:
    staff = session.get(Staff, user.staff_id)
    if staff is None:
        raise NotFound("your staff record is gone; sign in again")
    return staff


def _save(
    session: Session,
    person: Staff,
    by: Staff,
    settings: Settings,
    *,
    kind: str,
    url: str,
    slack_user_id: str,
    clear: str,
) -> None:
    if clear:
        service.clear_channel(session, person, kind=kind, by=by)
    else:
        service.set_channel(
            session,
            person,
            kind=kind,
            url=url,
            by=by,
            settings=settings,
            slack_user_id=slack_user_id or None,
        )


@router.get("/me")
def my_page(
    request: Request, session: DbSession, user: CurrentUser, saved: str = "", removed: str = ""
) -> Response:
    # Only a channel kind is ever named back: anything else in the address says nothing.
    return _my_page(
        request,
        session,
        user,
        saved=saved if saved in KINDS else "",
        removed=removed if removed in KINDS else "",
    )


def _my_page(
    request: Request,
    session: Session,
    user: SignedIn,
    *,
    saved: str = "",
    removed: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    me = _me(session, user)
    settings = _settings(request)
    context = {
        "me": me,
        "notices": feed.latest(session, me.id),
        "unread": feed.unread_count(session, me.id),
        "page": feed.PAGE,
        "keep_days": feed.KEEP_READ.days,
        "channels": service.describe_channels(session, me, settings),
        "email_ready": smtp_ready(effective_settings(session, settings)),
        "saved": saved,
        "removed": removed,
        "error": error,
        "minutes": settings.action_link_minutes,
    }
    return render(request, "me.html", context, status=status)


@router.post("/me/notices/{notice_id}/open")
def open_notice(session: DbSession, user: CurrentUser, notice_id: int) -> Response:
    """Read one notification and go where it points."""
    return RedirectResponse(feed.open_notice(session, user.staff_id, notice_id), status_code=303)


@router.post("/me/notices/read")
def read_all_notices(session: DbSession, user: CurrentUser) -> Response:
    feed.mark_all_read(session, user.staff_id)
    return RedirectResponse("/me#notices", status_code=303)


@router.post("/me/channels")
def my_channels(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    kind: Annotated[str, Form(pattern="^(teams|slack)$")],
    url: Annotated[str, Form(max_length=2000)] = "",
    slack_user_id: Annotated[str, Form(max_length=32)] = "",
    clear: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    me = _me(session, user)
    try:
        with session.begin_nested():
            _save(
                session,
                me,
                me,
                _settings(request),
                kind=kind,
                url=url,
                slack_user_id=slack_user_id,
                clear=clear,
            )
    except FranchiseError as exc:
        return _my_page(request, session, user, error=exc.message, status=exc.status)
    done = "removed" if clear else "saved"
    return RedirectResponse("/me?" + urlencode({done: kind}), status_code=303)


@router.post("/staff/{staff_id}/channels")
def staff_channels(
    request: Request,
    session: DbSession,
    user: ManagerUser,
    staff_id: int,
    kind: Annotated[str, Form(pattern="^(teams|slack)$")],
    url: Annotated[str, Form(max_length=2000)] = "",
    slack_user_id: Annotated[str, Form(max_length=32)] = "",
    clear: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    person = session.get(Staff, staff_id)
    if person is None:
        raise NotFound(f"no staff member #{staff_id}")
    try:
        with session.begin_nested():
            _save(
                session,
                person,
                _me(session, user),
                _settings(request),
                kind=kind,
                url=url,
                slack_user_id=slack_user_id,
                clear=clear,
            )
    except FranchiseError as exc:
        query = urlencode({"channel_error": exc.message})
        return RedirectResponse(f"/staff?{query}#channels", status_code=303)
    query = urlencode({"channels": f"{person.email}: {kind}"})
    return RedirectResponse(f"/staff?{query}#channels", status_code=303)


def channel_rows(session: Session, settings: Settings) -> list[dict[str, object]]:
    """For the Staff page: each person and their channels (hosts only)."""
    return [
        {
            "id": s.id,
            "name": s.name,
            "email": s.email,
            "channels": service.describe_channels(session, s, settings),
        }
        for s in list_staff(session)
        if s.active
    ]


# --- signed links -------------------------------------------------------------------------


def _viewer(session: Session, signed_in: SignedIn | None) -> Staff | None:
    return session.get(Staff, signed_in.staff_id) if signed_in is not None else None


def _refused(request: Request, message: str, status: int) -> Response:
    return render(request, "link.html", {"refused": message, "done": "", "p": None}, status=status)


@links.get("/l/{token}")
def link_page(
    request: Request,
    session: DbSession,
    token: str,
    signed_in: Annotated[SignedIn | None, Depends(get_signed_in)],
) -> Response:
    try:
        link = service.check_link(
            session, token, settings=_settings(request), viewer=_viewer(session, signed_in)
        )
        shown = preview(session, link)
    except FranchiseError as exc:
        return _refused(request, exc.message, exc.status)
    context = {"refused": "", "done": "", "p": shown, "token": token, "action": link.action}
    return render(request, "link.html", context)


@links.post("/l/{token}")
def link_do(
    request: Request,
    session: DbSession,
    token: str,
    signed_in: Annotated[SignedIn | None, Depends(get_signed_in)],
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        with session.begin_nested():
            link = service.check_link(
                session,
                token,
                settings=_settings(request),
                viewer=_viewer(session, signed_in),
                lock=True,
            )
            done = apply_link(session, link, text=text, via="a notification link")
    except Conflict as exc:
        return _refused(request, exc.message, exc.status)
    except FranchiseError as exc:
        return _refused(request, exc.message, exc.status)
    return render(request, "link.html", {"refused": "", "done": done, "p": None})
