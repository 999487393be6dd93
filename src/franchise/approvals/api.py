"""JSON routes for approval requests and the boundaries document."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from franchise.api.deps import CurrentStaff, DbSession, Manager
from franchise.approvals import service
from franchise.approvals.present import approval_dict, approval_dicts
from franchise.approvals.schemas import ApprovalCreate, ApprovalDecision, BoundariesUpdate
from franchise.flows.approvals import decide_request
from franchise.tickets.service import get_ticket

router = APIRouter(tags=["approvals"])


@router.post("/tickets/{ticket_id}/approvals", status_code=201)
def request_approval(
    ticket_id: int, body: ApprovalCreate, session: DbSession, staff: CurrentStaff
) -> dict[str, Any]:
    request = service.request_approval(
        session,
        ticket=get_ticket(session, ticket_id),
        action=body.action,
        cost=body.cost,
        minutes=body.minutes,
        impact=body.impact,
        kind=body.kind,
        recurring=body.recurring,
        requester=staff,
    )
    return approval_dict(session, request)


@router.get("/approvals")
def list_approvals(
    session: DbSession,
    _staff: CurrentStaff,
    status: str | None = None,
    ticket_id: int | None = None,
    limit: int = Query(200, ge=1, le=1000),
) -> list[dict[str, Any]]:
    ticket = get_ticket(session, ticket_id) if ticket_id is not None else None
    rows = service.list_requests(session, status=status, ticket=ticket, limit=limit)
    return approval_dicts(session, rows)


@router.get("/approvals/{request_id}")
def show_approval(request_id: int, session: DbSession, _staff: CurrentStaff) -> dict[str, Any]:
    return approval_dict(session, service.get_request(session, request_id))


@router.post("/approvals/{request_id}/decision")
def decide(
    request_id: int, body: ApprovalDecision, session: DbSession, staff: CurrentStaff
) -> dict[str, Any]:
    request = service.get_request(session, request_id)
    decide_request(session, request, by=staff, approve=body.approve, reason=body.reason)
    return approval_dict(session, request)


@router.get("/boundaries")
def get_boundaries(session: DbSession, _staff: CurrentStaff) -> dict[str, Any]:
    source, revision = service.boundaries_source(session)
    parsed, _ = service.current_boundaries(session)
    return {
        "revision": revision,
        "source": source,
        "boundaries": parsed.to_dict(),
        "unknown_people": service.unknown_people(session, parsed),
    }


@router.put("/boundaries")
def put_boundaries(body: BoundariesUpdate, session: DbSession, staff: Manager) -> dict[str, Any]:
    revision, changed = service.save_boundaries(
        session,
        body.source,
        author=staff,
        note=body.note,
        expected_revision=body.expected_revision,
    )
    parsed = service.validate_boundaries(body.source)
    return {
        "revision": revision.number,
        "changed": changed,
        "unknown_people": service.unknown_people(session, parsed),
    }
