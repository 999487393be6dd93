"""The PSA connection and its sync state, kept in the organisation settings table.

One connection per installation. Its plain settings (URL, client id, field id) are
stored as they are; its secrets (client secret, webhook password) sealed with the same
key as the SMTP password (orgsettings/sealing.py) and opened only to talk to the PSA.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.db import utcnow
from franchise.errors import InvalidInput
from franchise.orgsettings.models import OrgSetting
from franchise.orgsettings.sealing import Unsealable, seal, unseal
from franchise.psa.connectors import autotask, connectwise, halopsa
from franchise.psa.connectors.base import ConnectionConfig, Connector, PsaError
from franchise.settings import Settings

if TYPE_CHECKING:
    # Imported where a request is sent: httpx loads about 5 MB (its command line's rich
    # and pygments too), which a server that never calls out does without.
    import httpx

CONNECTION_KEY = "psa_connection"
STATE_KEY = "psa_sync_state"
# Vendors whose connector is complete; a vendor named here but not yet complete is refused.
AVAILABLE = {halopsa.VENDOR: halopsa, connectwise.VENDOR: connectwise, autotask.VENDOR: autotask}
PLANNED: tuple[str, ...] = ()


def connector_for(config: ConnectionConfig, client: httpx.Client | None = None) -> Connector:
    if config.vendor == halopsa.VENDOR:
        return halopsa.HaloConnector(config, client)
    if config.vendor == connectwise.VENDOR:
        return connectwise.ConnectWiseConnector(config, client)
    if config.vendor == autotask.VENDOR:
        return autotask.AutotaskConnector(config, client)
    raise PsaError(f"no connector for '{config.vendor}'", permanent=True)


def check_vendor(vendor: str) -> str:
    name = vendor.strip().lower()
    if name in AVAILABLE:
        return name
    if name in PLANNED:
        raise InvalidInput(
            f"the {name} connector is not available in this version; import its CSV exports "
            f"with `franchise import tickets --format {name}` meanwhile"
        )
    raise InvalidInput(f"unknown PSA '{vendor}' (use {', '.join(AVAILABLE)})")


def _url(raw: str) -> str:
    text = raw.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise InvalidInput("--url must be the PSA's address, such as https://acme.halopsa.com")
    return text


def save_connection(
    session: Session,
    settings: Settings,
    *,
    vendor: str,
    url: str,
    options: dict[str, str],
    secrets: dict[str, str],
    maps: dict[str, dict[str, str]] | None = None,
) -> ConnectionConfig:
    """Store (or replace) the connection; the sync starts from the beginning again only
    when the PSA itself changed."""
    name = check_vendor(vendor)
    module = AVAILABLE[name]
    unknown = [k for k in options if k not in module.OPTIONS] + [
        k for k in secrets if k not in module.SECRETS
    ]
    if unknown:
        raise InvalidInput(f"{name}: unknown connection setting(s) {', '.join(unknown)}")
    previous = load_connection(session, settings)
    kept = dict(previous.secrets) if previous and previous.vendor == name else {}
    kept.update({k: v for k, v in secrets.items() if v})
    maps = maps or {}
    config = ConnectionConfig(
        vendor=name,
        base_url=_url(url),
        options={k: v.strip() for k, v in options.items() if v.strip()},
        secrets=kept,
        status_map=maps.get("status", {}),
        priority_map=maps.get("priority", {}),
        category_map=maps.get("category", {}),
    )
    public = asdict(config)
    del public["secrets"]
    _put(session, CONNECTION_KEY, {"value": public, "sealed": seal(settings, json.dumps(kept))})
    if previous is None or (previous.vendor, previous.base_url) != (name, config.base_url):
        _put(session, STATE_KEY, {"value": {}})
    return config


def load_connection(session: Session, settings: Settings) -> ConnectionConfig | None:
    """The stored connection with its secrets opened; None when there is none."""
    row = session.get(OrgSetting, CONNECTION_KEY)
    if row is None:
        return None
    public = dict(row.value.get("value") or {})
    try:
        secrets = json.loads(unseal(settings, str(row.value.get("sealed", ""))))
    except Unsealable as exc:
        raise InvalidInput(
            f"the PSA credentials cannot be opened ({exc}); run franchise psa connect again"
        ) from None
    return ConnectionConfig(**public, secrets=secrets)


def connected_vendor(session: Session) -> str | None:
    """The vendor connected, without opening the secrets (for the hooks on every change)."""
    row = session.get(OrgSetting, CONNECTION_KEY)
    return str((row.value.get("value") or {}).get("vendor")) if row is not None else None


@dataclass
class SyncState:
    cursor: str | None = None
    last_run_at: str | None = None
    last_success_at: str | None = None
    last_error: str | None = None
    failures: int = 0
    next_run_at: str | None = None
    requested_at: str | None = None
    running_until: str | None = None
    imported: int = 0
    updated: int = 0

    def due(self, now: datetime, interval_seconds: float) -> bool:
        if self.next_run_at:
            # After a failure: not before the PSA's Retry-After or our backoff, then at once.
            return datetime.fromisoformat(self.next_run_at) <= now
        if self.requested_at and (not self.last_run_at or self.requested_at > self.last_run_at):
            return True  # a webhook said something changed
        if not self.last_run_at:
            return True
        elapsed = (now - datetime.fromisoformat(self.last_run_at)).total_seconds()
        return elapsed >= interval_seconds


def read_state(session: Session, *, lock: bool = False) -> SyncState:
    """The sync's state. `lock` (for a read-modify-write) takes the row lock first, so the
    sync, its failure path and webhooks never write back a state another has replaced."""
    if lock:
        row = session.scalar(
            select(OrgSetting)
            .where(OrgSetting.key == STATE_KEY)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    else:
        row = session.get(OrgSetting, STATE_KEY)
    value: dict[str, Any] = dict((row.value.get("value") or {}) if row is not None else {})
    known = {k: v for k, v in value.items() if k in SyncState.__dataclass_fields__}
    return SyncState(**known)


def write_state(session: Session, state: SyncState) -> None:
    _put(session, STATE_KEY, {"value": asdict(state)})


def request_sync(session: Session) -> None:
    """A webhook said a ticket changed: sync at the next tick instead of the next interval."""
    state = read_state(session, lock=True)
    state.requested_at = utcnow().isoformat()
    write_state(session, state)


def _put(session: Session, key: str, value: dict[str, Any]) -> None:
    row = session.get(OrgSetting, key)
    if row is None:
        session.add(OrgSetting(key=key, value=value, updated_at=utcnow()))
    else:
        row.value, row.updated_at = value, utcnow()
    session.flush()
