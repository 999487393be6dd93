"""A client's outage correlation: how many new alert groups (0: off) within how many minutes
open one outage ticket (franchise.alerts.outages). Each value is the client's own or, when
unset, the organisation's (`outage_alert_groups`, `outage_window_minutes` settings)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from franchise.clients.models import Client
from franchise.errors import FranchiseError, InvalidInput
from franchise.orgsettings.service import get_setting
from franchise.orgsettings.values import parse_value

GROUPS = "outage_alert_groups"
WINDOW = "outage_window_minutes"


@dataclass(frozen=True)
class OutageSettings:
    client: str
    alert_groups: int  # in effect; 0: correlation off
    window_minutes: int
    own_alert_groups: int | None  # the client's own value; None: the organisation's
    own_window_minutes: int | None

    @property
    def enabled(self) -> bool:
        return self.alert_groups > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "enabled": self.enabled,
            "alert_groups": self.alert_groups,
            "window_minutes": self.window_minutes,
            "alert_groups_from": "organisation" if self.own_alert_groups is None else "client",
            "window_minutes_from": "organisation" if self.own_window_minutes is None else "client",
        }


def outage_settings(session: Session, client: Client) -> OutageSettings:
    groups = client.outage_alert_groups
    minutes = client.outage_window_minutes
    return OutageSettings(
        client=client.name,
        alert_groups=int(get_setting(session, GROUPS)) if groups is None else groups,
        window_minutes=int(get_setting(session, WINDOW)) if minutes is None else minutes,
        own_alert_groups=groups,
        own_window_minutes=minutes,
    )


UNCHANGED: Any = object()


def set_outage(
    session: Session,
    client: Client,
    *,
    alert_groups: int | str | None = UNCHANGED,
    window_minutes: int | str | None = UNCHANGED,
) -> OutageSettings:
    """Set the client's own values; None returns a value to the organisation's. Values are
    checked as the organisation settings are (groups 0 to 10,000, 0 turning correlation
    off; window 1 to 1,440 minutes)."""
    if alert_groups is not UNCHANGED:
        client.outage_alert_groups = _checked(client, GROUPS, alert_groups)
    if window_minutes is not UNCHANGED:
        client.outage_window_minutes = _checked(client, WINDOW, window_minutes)
    session.flush()
    return outage_settings(session, client)


def _checked(client: Client, key: str, raw: int | str | None) -> int | None:
    if raw is None:
        return None
    try:
        value: int = parse_value(key, raw)
    except FranchiseError as exc:
        raise InvalidInput(f"client '{client.name}': {exc.message}") from None
    return value
