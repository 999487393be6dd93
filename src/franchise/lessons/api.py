"""JSON routes for lessons."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from franchise.accounts.service import get_staff
from franchise.api.deps import CurrentStaff, DbSession
from franchise.lessons import service
from franchise.lessons.schemas import LessonCreate, LessonReject

router = APIRouter(tags=["lessons"])


@router.post("/lessons", status_code=201)
def create(body: LessonCreate, session: DbSession, staff: CurrentStaff) -> dict[str, Any]:
    """Capture a lesson for a runbook, or (`runbook: null`) say a new runbook is needed."""
    lesson = service.add_lesson(
        session,
        ticket=body.ticket_id,
        runbook=body.runbook,
        text=body.text,
        author=get_staff(session, body.by) if body.by else staff,
    )
    return service.lesson_dicts(session, [lesson])[0]


@router.get("/lessons")
def lessons(
    session: DbSession, _staff: CurrentStaff, pending: bool = False
) -> list[dict[str, Any]]:
    """Lessons, oldest first; `overdue` means still pending after the week it was captured in."""
    return service.list_lessons(session, pending_only=pending)


@router.post("/lessons/{lesson_id}/reject")
def reject(
    lesson_id: int, body: LessonReject, session: DbSession, staff: CurrentStaff
) -> dict[str, Any]:
    lesson = service.reject_lesson(session, lesson_id, by=staff, reason=body.reason)
    return service.lesson_dicts(session, [lesson])[0]
