"""Where each setting in force comes from, for the Settings page and `franchise settings`.

The order, first found wins:

1. saved in Franchise (the Settings page, `franchise settings set`, the API): the database;
2. the environment: a FRANCHISE_* variable (or a value the server was started with);
3. the built-in default.

Organisation settings have no environment variable, so they are saved or default. A saved
delivery value the server cannot read (sealed with another key) or that no longer
validates is skipped, as `secrets.effective_settings` skips it, and the next source shows.
Secrets are never shown: only whether they are set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.errors import InvalidInput
from franchise.orgsettings.models import OrgSetting
from franchise.orgsettings.sealing import Unsealable
from franchise.orgsettings.secrets import (
    DELIVERY_KEYS,
    SECRET_KEYS,
    parse_delivery_value,
    stored_delivery_values,
)
from franchise.orgsettings.values import KEYS, BusinessHours, OrgConfig, parse_value
from franchise.settings import Settings

SAVED, ENVIRONMENT, DEFAULT = "saved", "environment", "default"
SOURCE_TEXT = {SAVED: "saved in Franchise", ENVIRONMENT: "environment", DEFAULT: "default"}


@dataclass(frozen=True)
class SettingSource:
    key: str
    value: str  # the value in force as text; for a secret only "set" or "not set"
    source: str  # saved | environment | default
    env_var: str | None = None  # the variable that may set it, if any
    note: str = ""  # e.g. why a saved value was skipped

    @property
    def source_text(self) -> str:
        return SOURCE_TEXT[self.source]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "source": self.source,
            "env_var": self.env_var,
            "note": self.note,
        }


def setting_sources(session: Session, settings: Settings) -> list[SettingSource]:
    """Every organisation and delivery setting, its value in force and where it is from."""
    return [*_organisation(session), *_delivery(session, settings)]


def _organisation(session: Session) -> list[SettingSource]:
    rows = {r.key: r for r in session.scalars(select(OrgSetting).where(OrgSetting.key.in_(KEYS)))}
    defaults = OrgConfig()
    out = []
    for key in KEYS:
        row = rows.get(key)
        if row is None:
            out.append(SettingSource(key, _text(getattr(defaults, key)), DEFAULT))
            continue
        try:
            value = parse_value(key, (row.value or {}).get("value"))
        except InvalidInput as exc:
            # get_config refuses it too; the page says so beside the organisation form.
            out.append(SettingSource(key, "not valid", SAVED, note=exc.message))
            continue
        out.append(SettingSource(key, _text(value), SAVED))
    return out


def _delivery(session: Session, settings: Settings) -> list[SettingSource]:
    stored = stored_delivery_values(session, settings)
    from_env = settings.model_fields_set
    out = []
    for key in DELIVERY_KEYS:
        env_var = f"FRANCHISE_{key.upper()}"
        saved, note = _usable(key, stored.get(key))
        if saved is not None:
            out.append(SettingSource(key, _shown(key, saved), SAVED, env_var, note))
            continue
        value = getattr(settings, key)
        source = ENVIRONMENT if key in from_env else DEFAULT
        out.append(SettingSource(key, _shown(key, value), source, env_var, note))
    return out


def _usable(key: str, raw: Any) -> tuple[Any, str]:
    """(the saved value, or None when there is none that counts; why it does not count)."""
    if raw is None or raw == "":
        return None, ""
    if isinstance(raw, Unsealable):
        return None, f"the saved value cannot be read ({raw}); enter it again"
    try:
        return parse_delivery_value(key, str(raw)), ""
    except InvalidInput:
        return None, "the saved value is not valid and is ignored"


def _shown(key: str, value: Any) -> str:
    if key in SECRET_KEYS:
        return "set" if value else "not set"
    return _text(value) if value not in ("", None) else "(empty)"


def _text(value: Any) -> str:
    if isinstance(value, BusinessHours):
        return value.describe()
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)
