from __future__ import annotations

from pydantic import BaseModel, Field


class AskOwner(BaseModel):
    """An ask for the owner about a ticket; the token's staff member asks."""

    reason: str = Field(
        description="approval, escalation, customer_communication, technical_decision or other"
    )
    question: str = Field(min_length=1, max_length=4000)
    emergency: bool = Field(
        default=False, description="The asker thinks so; the escalation map decides."
    )
    action: str | None = Field(default=None, description="For approvals; default the question.")
    cost: str | None = Field(default=None, description="For approvals: estimated cost.")
    minutes: int | None = Field(default=None, ge=0, description="For approvals.")
    impact: str | None = Field(default=None, description="For approvals: none|low|medium|high.")
    kind: str | None = Field(default=None, description="For approvals: action kind.")
    recurring: str | None = Field(
        default=None, description="For approvals: once, month or year (compared over a year)."
    )


class AskReply(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
