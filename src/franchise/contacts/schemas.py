from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ContactCreate(BaseModel):
    """A contact posted by a phone system, chat bot or person; see GET /settings for hours."""

    occurred_at: datetime | None = Field(
        default=None, description="When; now if omitted; a time without offset is local time."
    )
    channel: str = Field(
        description="call, text, chat, email, in_person, emergency_escalation or in_app"
    )
    ticket_id: int | None = None
    by: str | None = Field(
        default=None, description="Staff e-mail of who contacted the owner; the token's staff."
    )
    reason: str = Field(
        description="approval, escalation, customer_communication, technical_decision or other"
    )
    minutes: int = Field(default=0, ge=0, le=24 * 60)
    emergency: bool = False
    outcome: str = Field(default="interruption", description="interruption, deflection, refused")
    question: str | None = Field(default=None, max_length=10_000)
    answer: str | None = Field(default=None, max_length=10_000)
