from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StaffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
    role: str
    level: str
    active: bool
