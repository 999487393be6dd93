"""JSON routes to attach, replace or detach a ticket's runbook, and to change its category."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from franchise.api.deps import CurrentStaff, DbSession
from franchise.flows.runbook_choice import (
    MAX_REASON,
    attach_runbook,
    change_category,
    detach_runbook,
)
from franchise.tickets.present import ticket_dict
from franchise.tickets.service import get_ticket

router = APIRouter(tags=["tickets"])


class RunbookChoice(BaseModel):
    runbook: str | None = Field(
        max_length=100, description="runbook key (or a category with one runbook); null detaches"
    )
    reason: str = Field(min_length=1, max_length=MAX_REASON, description="kept in the history")


@router.put("/tickets/{ticket_id}/runbook")
def set_runbook(
    ticket_id: int, body: RunbookChoice, session: DbSession, staff: CurrentStaff
) -> dict[str, Any]:
    """Attach or replace the ticket's runbook; `runbook: null` detaches it (then no runbook
    covers the ticket and the escalation map's default decides)."""
    ticket = get_ticket(session, ticket_id)
    if body.runbook is None:
        detach_runbook(session, ticket, actor=staff, reason=body.reason)
    else:
        attach_runbook(session, ticket, body.runbook, actor=staff, reason=body.reason)
    return ticket_dict(session, ticket)


class CategoryChoice(BaseModel):
    category: str | None = Field(
        max_length=64, description="category id; null: no category (it follows the runbook)"
    )
    reason: str = Field(min_length=1, max_length=MAX_REASON, description="kept in the history")


@router.put("/tickets/{ticket_id}/category")
def set_category(
    ticket_id: int, body: CategoryChoice, session: DbSession, staff: CurrentStaff
) -> dict[str, Any]:
    """Set the category by hand, with the reason. A runbook a technician chose stays; one that
    came with the old category or the suggestion gives way to the new category's best."""
    ticket = get_ticket(session, ticket_id)
    change_category(session, ticket, body.category, actor=staff, reason=body.reason)
    return ticket_dict(session, ticket)
