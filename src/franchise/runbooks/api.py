"""JSON routes for runbooks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from franchise.api.deps import CurrentStaff, DbSession, RunbookMaintainer
from franchise.runbooks import service
from franchise.runbooks.render import runbook_dict
from franchise.runbooks.schemas import RunbookImport, RunbookSummary

router = APIRouter(prefix="/runbooks", tags=["runbooks"])


@router.get("", response_model=list[RunbookSummary])
def list_runbooks(session: DbSession, _staff: CurrentStaff) -> list[RunbookSummary]:
    return [
        RunbookSummary(
            key=r.key,
            title=r.title,
            category=r.category,
            status=r.status,
            revision=r.current_revision,
            steps=len(service.definition(session, r).steps),
            updated_at=r.updated_at,
        )
        for r in service.list_runbooks(session)
    ]


@router.get("/{ref}")
def get_runbook(
    ref: str, session: DbSession, _staff: CurrentStaff, revision: int | None = None
) -> dict[str, Any]:
    row = service.get_runbook(session, ref)
    data = runbook_dict(service.definition(session, row, revision))
    data["revision"] = revision or row.current_revision
    return data


@router.get("/{ref}/source", response_model=dict[str, Any])
def get_source(
    ref: str, session: DbSession, _staff: CurrentStaff, revision: int | None = None
) -> dict[str, Any]:
    row = service.get_runbook(session, ref)
    rev = service.revision(session, row, revision)
    return {"key": row.key, "revision": rev.number, "source": rev.source, "note": rev.note}


@router.post("", status_code=201)
def save_runbook(
    body: RunbookImport, session: DbSession, staff: RunbookMaintainer
) -> dict[str, Any]:
    """Create a runbook or save a new revision (lint errors come back as 422 with lines)."""
    result = service.save_runbook(
        session,
        body.source,
        file="<request>",
        author=staff,
        note=body.note,
        expected_revision=body.expected_revision,
    )
    return {"key": result.runbook.key, "revision": result.revision, "action": result.action}
