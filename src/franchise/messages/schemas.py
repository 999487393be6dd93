"""Request bodies for the message and template routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class MessagePreview(BaseModel):
    template: str = Field(description="a template key, or a stage (runbook override first)")
    to: str | None = Field(
        default=None,
        description="recipient; default the ticket's requester, else the primary contact",
    )
    next_update: datetime | None = Field(
        default=None, description="when the client hears from us next; default by priority"
    )


class MessageSend(MessagePreview):
    cc_primary: bool = Field(default=False, description="copy the client's primary contact")
    body: str | None = Field(
        default=None,
        max_length=20_000,
        description="the text to send instead of the rendered body (edited by the technician)",
    )


class TemplatesSave(BaseModel):
    source: str = Field(description="the templates document as YAML text", max_length=500_000)
    note: str = ""
    expected_revision: int | None = Field(
        default=None, description="refuse with 409 unless this is still the current revision"
    )
