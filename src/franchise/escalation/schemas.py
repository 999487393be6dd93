"""Request and response bodies for the escalation routes."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MapSave(BaseModel):
    source: str = Field(description="the escalation map as YAML text", max_length=200_000)
    note: str = ""
    expected_revision: int | None = Field(
        default=None, description="refuse with 409 unless this is still the current revision"
    )


class EscalateRequest(BaseModel):
    to: str = Field(description="the level to escalate to (L1, L2, owner)")
    override_reason: str | None = Field(
        default=None, max_length=2_000, description="owner or admin only: escalate anyway"
    )
    edge_case: int | None = Field(
        default=None, ge=1, description="follow this edge case (its number) of the current step"
    )
    note: str | None = Field(
        default=None,
        max_length=5_000,
        description="the handover note: what was found and tried, what the escalate step asks "
        "to attach (written on the ticket for whoever takes it)",
    )


class DecisionRead(BaseModel):
    allowed: bool
    to: str | None
    rule: str
    emergency: bool
    reason: str
    pending_step: str | None
