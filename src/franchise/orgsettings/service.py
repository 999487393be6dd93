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

__all__ = ["KEYS", "OrgConfig", "get_config", "get_setting", "set_setting"]


def get_config(session: Session) -> OrgConfig:
    """Every setting, stored value or default; a stored value that no longer parses is an error."""
    rows = session.scalars(select(OrgSetting).where(OrgSetting.key.in_(KEYS)))
    return replace(OrgConfig(), **{row.key: _parsed(row) for row in rows})


def get_setting(session: Session, key: str) -> Any:
    """One setting, stored value or default, without reading (or failing on) the others."""
    if key not in KEYS:
        raise InvalidInput(f"unknown setting '{key}' (use {', '.join(KEYS)})")
    row = session.get(OrgSetting, key)
    return getattr(OrgConfig(), key) if row is None else _parsed(row)


def _parsed(row: OrgSetting) -> Any:
    raw = (row.value or {}).get("value")
    try:
        return parse_value(row.key, raw)
    except InvalidInput as exc:
        raise InvalidInput(
            f"stored {exc.message}; fix it with `franchise settings set {row.key} ...`"
        ) from None


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
