"""JSON routes for owner-offline drills and the drill and weekly reviews."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter

from franchise.api.deps import CurrentStaff, DbSession, Manager
from franchise.contacts.hours import as_aware
from franchise.db import utcnow
from franchise.drills import review, service
from franchise.drills.schemas import Dispose, DrillStart
from franchise.orgsettings.service import get_config

router = APIRouter(tags=["drills"])


@router.post("/drills", status_code=201)
def start(body: DrillStart, session: DbSession, staff: Manager) -> dict[str, Any]:
    """Start or schedule a drill; 409 while another drill overlaps it."""
    at = as_aware(body.at, get_config(session).tz) if body.at else None
    drill = service.start_drill(session, by=staff, days=body.days, at=at)
    return service.drill_dict(session, drill, utcnow())


@router.get("/drills/status")
def status(session: DbSession, _staff: CurrentStaff) -> dict[str, Any]:
    return service.drill_status(session)


@router.post("/drills/{drill_id}/end")
def end(drill_id: int, session: DbSession, staff: Manager) -> dict[str, Any]:
    drill = service.end_drill(session, drill_id=drill_id, by=staff)
    return service.drill_dict(session, drill, utcnow())


@router.get("/drills/{drill_id}/review")
def drill_review(drill_id: int, session: DbSession, _staff: CurrentStaff) -> dict[str, Any]:
    """The drill's review items (each opened when its contact was logged)."""
    return review.drill_review(session, drill_id)


@router.post("/review-items/{item_id}/dispose")
def dispose(item_id: int, body: Dispose, session: DbSession, staff: Manager) -> dict[str, Any]:
    """Close an item; 409 when the runbook or rule has not changed since the drill began."""
    item = review.dispose_item(
        session,
        item_id,
        improve_runbook=body.improve_runbook,
        tighten_rule=body.tighten_rule,
        note=body.note,
        by=staff,
    )
    return review.item_dicts(session, [item])[0]


@router.get("/reviews/week")
def week(session: DbSession, _staff: CurrentStaff, week: date | None = None) -> dict[str, Any]:
    """Interruptions outside drills in the week of `week` (default this week)."""
    return review.week_review(session, week=week)
