from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class DrillStart(BaseModel):
    days: int | None = Field(
        default=None, ge=1, le=30, description="Default: the drill_days setting."
    )
    at: datetime | None = Field(
        default=None, description="Start; now if omitted; a time without offset is local time."
    )


class Dispose(BaseModel):
    """Exactly one of improve_runbook and tighten_rule."""

    improve_runbook: str | None = Field(default=None, description="Runbook key revised.")
    tighten_rule: str | None = Field(default=None, description="Escalation rule changed.")
    note: str = Field(min_length=1, max_length=4000)
