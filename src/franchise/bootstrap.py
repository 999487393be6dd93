"""First-run set-up shared by `franchise init`, `franchise demo` and the app."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.approvals.service import load_starter_boundaries
from franchise.escalation import service as escalation
from franchise.messages.service import load_starter_templates
from franchise.runbooks import service as runbooks
from franchise.runbooks.models import Runbook


def initialise(session: Session) -> dict[str, Any]:
    """Load whatever of the starter library is missing; idempotent."""
    loaded = runbooks.load_starter(session)
    total = session.scalar(select(func.count()).select_from(Runbook)) or 0
    return {
        "runbooks_loaded": len(loaded),
        "runbooks_total": int(total),
        "boundaries_loaded": load_starter_boundaries(session),
        "escalation_map_loaded": escalation.load_starter(session),
        "templates_loaded": load_starter_templates(session),
    }
