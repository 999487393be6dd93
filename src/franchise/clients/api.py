"""JSON routes for the client profile: the facts that answer runbook checks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from franchise.api.deps import CurrentStaff, DbSession, Manager
from franchise.clients import facts, outage
from franchise.clients.service import get_client

router = APIRouter(prefix="/clients", tags=["clients"])


class FactValue(BaseModel):
    value: str = Field(min_length=1, max_length=facts.MAX_VALUE)


@router.get("/{client}/facts")
def list_facts(client: str, session: DbSession, _staff: CurrentStaff) -> list[dict[str, Any]]:
    """The client's profile facts, each with where it came from and when."""
    return [f.to_dict() for f in facts.list_facts(session, get_client(session, client))]


@router.put("/{client}/facts/{key}")
def set_fact(
    client: str, key: str, body: FactValue, session: DbSession, staff: CurrentStaff
) -> dict[str, Any]:
    """Type a fact (any technician may: facts are what the team learns about a client)."""
    row = get_client(session, client)
    facts.set_fact(session, row, key, body.value, by=staff)
    return next(f.to_dict() for f in facts.list_facts(session, row) if f.key == key.lower())


@router.delete("/{client}/facts/{key}", status_code=204)
def unset_fact(client: str, key: str, session: DbSession, _staff: Manager) -> None:
    facts.unset_fact(session, get_client(session, client), key)


class OutageBody(BaseModel):
    """The client's own values; null returns one to the organisation's setting."""

    alert_groups: int | None = Field(default=None, ge=0, le=10_000)
    window_minutes: int | None = Field(default=None, ge=1, le=1440)


@router.get("/{client}/outage")
def show_outage(client: str, session: DbSession, _staff: CurrentStaff) -> dict[str, Any]:
    """Outage correlation for the client: the values in effect and where each comes from."""
    return outage.outage_settings(session, get_client(session, client)).to_dict()


@router.put("/{client}/outage")
def set_outage(
    client: str, body: OutageBody, session: DbSession, _staff: Manager
) -> dict[str, Any]:
    """Set both of the client's values (alert_groups 0: correlation off for the client;
    null: the organisation's value)."""
    row = get_client(session, client)
    return outage.set_outage(
        session, row, alert_groups=body.alert_groups, window_minutes=body.window_minutes
    ).to_dict()
