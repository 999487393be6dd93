"""The duty roster on the Settings pages (owner/admin): who takes escalations at L2 and who
backs up the owner, by day and hour, and who is on duty now. Thin over duty.service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.models import Staff
from franchise.accounts.service import get_staff
from franchise.api.deps import DbSession
from franchise.duty import service
from franchise.duty.roster import DAY_NAMES, LEVEL_NAMES
from franchise.errors import FranchiseError, InvalidInput
from franchise.orgsettings.service import get_config
from franchise.web.auth import ManagerUser, check_csrf
from franchise.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)])
# The roster is for escalations: L2 and the owner's backup first, L1 if an MSP wants it.
LEVELS = ("L2", "owner", "L1")
SAVED = {"added": "Shift added.", "removed": "Shift removed."}
EMPTY_FORM = {"level": "L2", "staff_id": "", "days": ["mon", "tue", "wed", "thu", "fri"]}
# The Person picker serves every level of the one form (it must work without JavaScript), so
# it offers only the active people some level accepts, grouped by what they may cover; the
# service refuses the wrong level for them, naming it.
PICKER_GROUPS = (("L2", "L2: on duty at L2 or as the owner's backup"), ("L1", "L1: on duty at L1"))


def _page(
    request: Request,
    session: Session,
    *,
    form: dict[str, Any] | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    now = {level: service.on_duty(session, level) for level in LEVELS}
    context = {
        "levels": [(level, LEVEL_NAMES[level]) for level in LEVELS],
        "level_names": LEVEL_NAMES,
        "now": {level: person.name if person else None for level, person in now.items()},
        "shifts": service.roster(session),
        "week": service.week_roster(session),
        "staff_groups": _people_by_level(session),
        "day_names": DAY_NAMES,
        "form": form or {**EMPTY_FORM, "start": "08:00", "end": "18:00"},
        "error": error,
        "saved": SAVED.get(request.query_params.get("saved", ""), ""),
        "timezone": get_config(session).timezone,
    }
    return render(request, "duty.html", context, status=status)


def _people_by_level(session: Session) -> list[tuple[str, list[Staff]]]:
    people = service.eligible_staff(session)
    groups = [(title, [s for s in people if s.level == level]) for level, title in PICKER_GROUPS]
    return [(title, members) for title, members in groups if members]


@router.get("/settings/duty")
def duty_page(request: Request, session: DbSession, _user: ManagerUser) -> Response:
    return _page(request, session)


@router.post("/settings/duty")
def add_shift(
    request: Request,
    session: DbSession,
    _user: ManagerUser,
    level: Annotated[str, Form(max_length=32)],
    staff_id: Annotated[str, Form(max_length=20)] = "",
    days: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    start: Annotated[str, Form(max_length=5)] = "",
    end: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Add a shift; a mistake comes back on the page naming the field, the form kept."""
    form = {"level": level, "staff_id": staff_id, "days": days, "start": start, "end": end}
    try:
        with session.begin_nested():
            if not staff_id.strip().isdecimal():
                raise InvalidInput("Person: choose who is on duty")
            if not days:
                raise InvalidInput("Days: tick at least one day")
            person = get_staff(session, int(staff_id))
            service.set_shift(
                session, level=level, staff=person, days=",".join(days), hours=f"{start}-{end}"
            )
    except FranchiseError as exc:
        return _page(request, session, form=form, error=exc.message, status=exc.status)
    return RedirectResponse("/settings/duty?saved=added", status_code=303)


@router.post("/settings/duty/{shift_id}/remove")
def remove_shift(
    request: Request, session: DbSession, _user: ManagerUser, shift_id: int
) -> Response:
    try:
        with session.begin_nested():
            service.remove_shift(session, shift_id)
    except FranchiseError as exc:
        return _page(request, session, error=exc.message, status=exc.status)
    return RedirectResponse("/settings/duty?saved=removed", status_code=303)
