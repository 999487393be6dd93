from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class StaffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
    role: str
    level: str
    active: bool


class TokenCreated(BaseModel):
    id: int
    name: str
    staff: str
    token: str
    created_at: datetime
