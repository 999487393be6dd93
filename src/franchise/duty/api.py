"""JSON routes for the duty roster."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from franchise.accounts.service import get_staff
from franchise.api.deps import CurrentStaff, DbSession, Manager
from franchise.duty import service

router = APIRouter(prefix="/duty", tags=["duty"])


class ShiftCreate(BaseModel):
    level: str = Field(description="L1, L2, or owner (the owner's backup)")
    staff: str = Field(description="staff e-mail or name")
    days: str = Field("mon-fri", max_length=40)
    hours: str = Field("08:00-18:00", max_length=20)


@router.get("")
def roster(session: DbSession, _staff: CurrentStaff) -> dict[str, Any]:
    now = {}
    for level in ("L1", "L2", "owner"):
        person = service.on_duty(session, level)
        now[level] = person.name if person else None
    return {"shifts": service.roster(session), "on_duty_now": now}


@router.post("", status_code=201)
def add_shift(body: ShiftCreate, session: DbSession, _staff: Manager) -> dict[str, Any]:
    shift = service.set_shift(
        session,
        level=body.level,
        staff=get_staff(session, body.staff),
        days=body.days,
        hours=body.hours,
    )
    return {"id": shift.id}


@router.delete("/{shift_id}", status_code=204)
def remove_shift(shift_id: int, session: DbSession, _staff: Manager) -> None:
    service.remove_shift(session, shift_id)
