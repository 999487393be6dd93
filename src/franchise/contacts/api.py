"""JSON routes for owner contacts and the KPI."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from franchise.accounts.service import get_staff
from franchise.api.deps import CurrentStaff, DbSession
from franchise.contacts.hours import as_aware
from franchise.contacts.schemas import ContactCreate
from franchise.contacts.service import (
    check_logging_rights,
    contact_dicts,
    kpi_report,
    list_contacts,
    weeks_back,
)
from franchise.db import utcnow
from franchise.drills.contact_log import log_contact
from franchise.orgsettings.service import get_config
from franchise.tickets.service import get_ticket

router = APIRouter(tags=["contacts"])


@router.post("/contacts", status_code=201)
def create(body: ContactCreate, session: DbSession, staff: CurrentStaff) -> dict[str, Any]:
    config = get_config(session)
    now = utcnow()
    occurred_at = as_aware(body.occurred_at, config.tz) if body.occurred_at else now
    by = get_staff(session, body.by) if body.by else staff
    check_logging_rights(staff, by=by, occurred_at=occurred_at, outcome=body.outcome, now=now)
    contact = log_contact(
        session,
        occurred_at=occurred_at,
        channel=body.channel,
        reason=body.reason,
        ticket=get_ticket(session, body.ticket_id) if body.ticket_id is not None else None,
        by=by,
        recorded_by=staff,
        emergency=body.emergency,
        minutes=body.minutes,
        outcome=body.outcome,
        question=body.question,
        answer=body.answer,
        config=config,
    )
    return contact_dicts(session, [contact])[0]


@router.get("/contacts")
def contacts(
    session: DbSession,
    _staff: CurrentStaff,
    weeks: int = Query(4, ge=1, le=520, description="This week and the weeks before it."),
    outcome: str | None = None,
    channel: str | None = None,
    reason: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> list[dict[str, Any]]:
    config = get_config(session)
    rows = list_contacts(
        session,
        since=weeks_back(utcnow(), config.tz, weeks),
        outcome=outcome,
        channel=channel,
        reason=reason,
        limit=limit,
        offset=offset,
    )
    return contact_dicts(session, rows)


@router.get("/kpi")
def kpi(
    session: DbSession, _staff: CurrentStaff, weeks: int = Query(8, ge=1, le=520)
) -> dict[str, Any]:
    return kpi_report(session, weeks=weeks)
