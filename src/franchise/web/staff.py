"""The Staff page: owners and admins list staff and add new ones."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.models import LEVELS, ROLES
from franchise.accounts.service import add_staff, list_staff
from franchise.accounts.signins import recent_sign_ins
from franchise.api.deps import DbSession
from franchise.errors import FranchiseError, InvalidInput
from franchise.web.auth import ManagerUser, check_csrf
from franchise.web.people_pages import channel_rows
from franchise.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)])
MIN_PASSWORD = 12
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
        if len(password) < MIN_PASSWORD:
            raise InvalidInput(f"The initial password needs at least {MIN_PASSWORD} characters.")
        staff = add_staff(
            session, name=name, email=email, role=role, level=level, password=password
        )
    except FranchiseError as exc:
        # Shown on the form, with what was typed kept, rather than on a separate error page.
        return _page(request, session, form=form, error=exc.message, status=exc.status)
    return RedirectResponse("/staff?" + urlencode({"added": staff.email}), status_code=303)
