"""JSON route for runbook suggestions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from franchise.suggest.service import suggest
from franchise.web.deps import CurrentStaff, DbSession

router = APIRouter(tags=["suggest"])


class SuggestRequest(BaseModel):
    text: str = Field(min_length=1, max_length=100_000)
    alert_type: str | None = None
    limit: int = Field(default=3, ge=1, le=20)


@router.post("/suggest")
def suggest_runbooks(
    body: SuggestRequest, session: DbSession, _staff: CurrentStaff
) -> list[dict[str, Any]]:
    return [
        s.to_dict()
        for s in suggest(session, body.text, alert_type=body.alert_type, limit=body.limit)
    ]
