from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TicketCreate(BaseModel):
    title: str = Field(min_length=1, max_length=500)
    body: str = Field(default="", max_length=100_000)
    client: str | None = Field(default=None, description="client name or id")
    requester: str | None = Field(
        default=None,
        max_length=320,
        description="the affected user: a contact of the client (id, e-mail or name)",
    )
    category: str | None = None
    priority: str = "normal"
    external_id: str | None = Field(default=None, max_length=200)
    tags: list[str] = Field(default_factory=list)


class TicketRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    body: str
    client_id: int | None
    requester_id: int | None
    category: str | None
    priority: str
    status: str
    level: str
    assignee_id: int | None
    source: str
    external_id: str | None
    runbook_key: str | None
    # suggestion, category, technician, detached (tickets.models.RUNBOOK_SOURCES) or None.
    runbook_source: str | None
    category_by_hand: bool
    # The best runbook on opening and the probability it is right (suggest.calibration);
    # attached only at or above the threshold, otherwise offered.
    suggested_runbook_key: str | None
    suggestion_confidence: float | None
    tags: list[str]
    custom_fields: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None


class TicketEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor_id: int | None
    kind: str
    field: str | None
    old_value: str | None
    new_value: str | None
    note: str | None
    minutes: int | None = None


class TicketUpdate(BaseModel):
    status: str | None = None
    priority: str | None = None
    assignee: str | None = Field(
        default=None, description="staff e-mail, name or id; 'nobody' to unassign"
    )
    requester: str | None = Field(
        default=None,
        max_length=320,
        description="a contact of the ticket's client (id, e-mail or name); 'nobody' to clear",
    )
    note: str | None = Field(default=None, max_length=5000)


class RequesterChoice(BaseModel):
    requester: str | None = Field(
        max_length=320,
        description="a contact of the ticket's client (id, e-mail or name); null clears it",
    )
    note: str | None = Field(default=None, max_length=5000, description="kept in the history")


class DoneCheck(BaseModel):
    item: str = Field(min_length=1, max_length=500, description="item number (1-based) or text")


class ResolveRequest(BaseModel):
    override_reason: str | None = Field(default=None, max_length=5000)
    skip_reason: str | None = Field(
        default=None,
        max_length=5000,
        description="why the attached runbook was never run (needed when it was not)",
    )


class NoteCreate(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)
    minutes: int | None = Field(default=None, ge=0, le=1440, description="minutes worked")
