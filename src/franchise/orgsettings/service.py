"""Organisation settings: typed defaults over the key/value table."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.db import utcnow
from franchise.errors import InvalidInput
from franchise.orgsettings.models import OrgSetting
from franchise.orgsettings.values import KEYS, OrgConfig, parse_value, stored_form

__all__ = ["KEYS", "OrgConfig", "get_config", "set_setting"]


def get_config(session: Session) -> OrgConfig:
    """Every setting, stored value or default; a stored value that no longer parses is an error."""
    config = OrgConfig()
    changes: dict[str, Any] = {}
    for row in session.scalars(select(OrgSetting).where(OrgSetting.key.in_(KEYS))):
        raw = (row.value or {}).get("value")
        try:
            changes[row.key] = parse_value(row.key, raw)
        except InvalidInput as exc:
            raise InvalidInput(
                f"stored {exc.message}; fix it with `franchise settings set {row.key} ...`"
            ) from None
    return replace(config, **changes)


def set_setting(session: Session, key: str, raw_value: object) -> OrgConfig:
    """Validate and store one setting; returns the whole configuration after the change."""
    value = stored_form(parse_value(key, raw_value))
    row = session.get(OrgSetting, key)
    if row is None:
        session.add(OrgSetting(key=key, value={"value": value}, updated_at=utcnow()))
    else:
        row.value = {"value": value}
        row.updated_at = utcnow()
    session.flush()
    return get_config(session)
