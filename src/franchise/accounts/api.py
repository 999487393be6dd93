"""JSON routes for staff: list (everyone), change, deactivate, reactivate, hand on open
tickets and issue a password-reset link (owner and admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from franchise.accounts.schemas import StaffRead
from franchise.accounts.service import get_staff, list_staff
from franchise.api.deps import CurrentStaff, DbSession, Manager
from franchise.flows import staff as lifecycle
from franchise.orgsettings.secrets import effective_settings

router = APIRouter(tags=["staff"])


class StaffChange(BaseModel):
    name: str | None = Field(None, max_length=200)
    role: str | None = Field(None, max_length=32)
    level: str | None = Field(None, max_length=32)


class Reassign(BaseModel):
    to: str = Field(max_length=320, description="Staff id, e-mail or name who takes the tickets")
    ticket_ids: list[int] | None = Field(None, description="Only these; all open ones if left out")


def _read(staff: Any) -> dict[str, Any]:
    return StaffRead.model_validate(staff).model_dump()


@router.get("/staff")
def staff_list(session: DbSession, _staff: CurrentStaff) -> list[dict[str, Any]]:
    return [_read(s) for s in list_staff(session)]


@router.patch("/staff/{ref}")
def staff_change(ref: str, body: StaffChange, session: DbSession, _by: Manager) -> dict[str, Any]:
    person = get_staff(session, ref)
    lifecycle.update_staff(session, person, name=body.name, role=body.role, level=body.level)
    return _read(person)


@router.post("/staff/{ref}/deactivate")
def staff_deactivate(ref: str, session: DbSession, by: Manager) -> dict[str, Any]:
    """Sign-in stops, sessions end and API tokens are revoked at once; the open tickets
    still assigned to them are listed for reassignment."""
    person = get_staff(session, ref)
    result = lifecycle.deactivate_staff(session, person, by=by)
    return {
        **_read(person),
        "sessions_ended": result.sessions_ended,
        "tokens_revoked": result.tokens_revoked,
        "open_ticket_ids": result.open_ticket_ids,
    }


@router.post("/staff/{ref}/reactivate")
def staff_reactivate(ref: str, session: DbSession, _by: Manager) -> dict[str, Any]:
    return _read(lifecycle.reactivate_staff(session, get_staff(session, ref)))


@router.post("/staff/{ref}/reassign")
def staff_reassign(ref: str, body: Reassign, session: DbSession, by: Manager) -> dict[str, Any]:
    person = get_staff(session, ref)
    target = get_staff(session, body.to)
    moved = lifecycle.reassign_open_tickets(
        session, person, target, by=by, ticket_ids=body.ticket_ids
    )
    return {"moved": moved, "to": target.email}


@router.post("/staff/{ref}/reset-link")
def staff_reset_link(
    ref: str, request: Request, session: DbSession, _by: Manager
) -> dict[str, Any]:
    """A one-time link to set a new password, for the caller to hand over (also e-mailed
    when SMTP is set up)."""
    person = get_staff(session, ref)
    link = lifecycle.issue_reset_link(
        session, effective_settings(session, request.app.state.settings), person
    )
    return {"url": link.url, "expires_at": link.expires_at.isoformat(), "emailed": link.emailed}
