from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class RunbookSummary(BaseModel):
    key: str
    title: str
    category: str
    status: str
    revision: int
    steps: int
    updated_at: datetime


class RunbookImport(BaseModel):
    source: str = Field(description="the runbook as YAML text", max_length=500_000)
    note: str = ""
    expected_revision: int | None = Field(
        default=None, description="refuse with 409 unless this is still the current revision"
    )


class RunStart(BaseModel):
    runbook: str
    ticket_id: int | None = None
    inputs: dict[str, str] = Field(default_factory=dict)


class RunAnswer(BaseModel):
    step: str
    answer: str = Field(description="The option's label, or its number (1-based) as listed")
    note: str | None = None
    save_fact: bool = Field(
        False, description="Save the answer to the ticket's client profile (checks with a fact)"
    )


class RunSwitch(BaseModel):
    runbook: str = Field(max_length=100, description="key of the runbook to switch to")
    reason: str = Field(min_length=1, max_length=2_000)
