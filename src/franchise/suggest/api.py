"""JSON route for runbook suggestions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from franchise.api.deps import CurrentStaff, DbSession
from franchise.suggest.service import match

router = APIRouter(tags=["suggest"])


class SuggestRequest(BaseModel):
    text: str = Field(min_length=1, max_length=100_000)
    alert_type: str | None = None
    limit: int = Field(default=3, ge=1, le=20)


@router.post("/suggest")
def suggest_runbooks(
    body: SuggestRequest, session: DbSession, _staff: CurrentStaff
) -> dict[str, Any]:
    """The best runbooks; `confidence` is the probability that the first is right, and
    `runbook` is null ("no runbook fits") when it is below `threshold`."""
    return match(session, body.text, alert_type=body.alert_type, limit=body.limit).to_dict()
