"""JSON routes for the escalation map and escalation decisions on tickets."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from franchise.api.deps import CurrentStaff, DbSession, Manager
from franchise.escalation import service
from franchise.escalation.present import map_dict
from franchise.escalation.schemas import DecisionRead, EscalateRequest, MapSave
from franchise.flows import escalations
from franchise.tickets.present import ticket_dict
from franchise.tickets.service import get_ticket

router = APIRouter(tags=["escalation"])


@router.get("/escalation/map")
def get_map(session: DbSession, _staff: CurrentStaff) -> dict[str, Any]:
    """The current map: parsed, plus its YAML source and revision (0 = shipped starter)."""
    current = service.current_map(session)
    data = map_dict(current.map, current.revision)
    data["source"] = current.source
    return data


@router.put("/escalation/map")
def save_map(body: MapSave, session: DbSession, staff: Manager) -> dict[str, Any]:
    """Save a new revision (lint errors come back as 422 with lines; a stale revision as 409)."""
    revision, changed = service.save_map(
        session,
        body.source,
        file="<request>",
        author=staff,
        note=body.note,
        expected_revision=body.expected_revision,
    )
    return {"revision": revision, "changed": changed}


@router.get("/tickets/{ticket_id}/escalation", response_model=DecisionRead)
def check(ticket_id: int, session: DbSession, _staff: CurrentStaff) -> dict[str, Any]:
    return service.check_escalation(session, get_ticket(session, ticket_id)).to_dict()


@router.post("/tickets/{ticket_id}/escalate")
def escalate(
    ticket_id: int, body: EscalateRequest, session: DbSession, staff: CurrentStaff
) -> dict[str, Any]:
    """Escalate; refused with 409 (reason and pending step in `errors`) when the map says no."""
    ticket = get_ticket(session, ticket_id)
    handover = escalations.escalate(
        session,
        ticket,
        to=body.to,
        by=staff,
        override_reason=body.override_reason,
        edge_case=body.edge_case,
        note=body.note,
    )
    return {"ticket": ticket_dict(session, ticket), **handover.to_dict()}
