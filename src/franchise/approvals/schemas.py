"""Input bodies for the approval routes."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from franchise.approvals.policy import MAX_ACTION, MAX_COST, MAX_MINUTES


class ApprovalCreate(BaseModel):
    action: str = Field(min_length=1, max_length=MAX_ACTION)
    cost: Decimal = Field(default=Decimal(0), ge=0, le=MAX_COST, decimal_places=2)
    minutes: int = Field(default=0, ge=0, le=MAX_MINUTES)
    impact: str = Field(default="none", description="none, low, medium or high")
    kind: str | None = Field(default=None, max_length=64, description="e.g. licence-purchase")
    recurring: str = Field(
        default="once", description="once, month or year; limits compare the cost over a year"
    )


class ApprovalDecision(BaseModel):
    approve: bool
    reason: str = Field(min_length=1, max_length=2000)


class BoundariesUpdate(BaseModel):
    source: str = Field(min_length=1, max_length=200_000, description="the YAML document")
    note: str = Field(default="", max_length=2000)
    expected_revision: int | None = Field(
        default=None, description="the revision you edited; a newer one refuses the save (409)"
    )
