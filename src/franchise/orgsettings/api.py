"""JSON routes for organisation settings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from franchise.api.deps import CurrentStaff, DbSession, Manager
from franchise.orgsettings.service import get_config, set_setting

router = APIRouter(tags=["settings"])


class SettingUpdate(BaseModel):
    value: Any = Field(
        description="Text as on the command line ('mon-fri 08:00-18:00') or the JSON value."
    )


@router.get("/settings")
def show(session: DbSession, _staff: CurrentStaff) -> dict[str, Any]:
    return get_config(session).to_dict()


@router.put("/settings/{key}")
def update(key: str, body: SettingUpdate, session: DbSession, _staff: Manager) -> dict[str, Any]:
    return set_setting(session, key, body.value).to_dict()
