from __future__ import annotations

from pydantic import BaseModel, Field

from franchise.lessons.service import MAX_TEXT


class LessonCreate(BaseModel):
    """What a ticket taught us, for the runbook to fold in before the week ends; or, with
    `runbook` null, that a new runbook is needed for tickets like this one."""

    ticket_id: int
    runbook: str | None = Field(
        max_length=100,
        description="Runbook key (or a category served by one runbook); null when no runbook "
        "fits the ticket and a new one is needed.",
    )
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    by: str | None = Field(default=None, description="Author (staff e-mail); the token's staff.")


class LessonReject(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
