"""JSON route for the audit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from franchise.api.deps import CurrentStaff, DbSession
from franchise.audit.service import audit

router = APIRouter(tags=["audit"])


@router.get("/audit")
def get_audit(session: DbSession, _staff: CurrentStaff) -> dict[str, Any]:
    """Score 0-100 with its components, the #1 bottleneck, next actions, runbook to write next."""
    return audit(session)
