"""Integrations (their tokens) and client mappings: create, list, revoke, authenticate."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.alerts.models import GROUP_BY, ClientMapping, Integration
from franchise.clients.service import get_client
from franchise.db import utcnow
from franchise.errors import InvalidInput, NotAuthenticated, NotFound
from franchise.integrations import KINDS

TOKEN_PREFIX = "frh_"  # noqa: S105 - a public prefix, not a secret


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_kind(kind: str) -> str:
    """The same refusal wherever a kind is named: a webhook URL, the CLI, the API."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown integration kind '{kind}' (use {', '.join(KINDS)})")
    return kind


def add_integration(
    session: Session,
    *,
    kind: str,
    name: str | None = None,
    client: str | None = None,
    auto_resolve: bool = False,
    group_by: str = "group",
) -> tuple[Integration, str]:
    """Create an integration; the plain token is returned once and never stored.

    group_by: `group` (one ticket per notification group, where the format sends one) or
    `alert` (one ticket per alert)."""
    check_kind(kind)
    if group_by not in GROUP_BY:
        raise InvalidInput(f"unknown grouping '{group_by}' (use {' or '.join(GROUP_BY)})")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    integration = Integration(
        kind=kind,
        name=(name or kind).strip() or kind,
        token_hash=digest(plain),
        token_prefix=plain[:10],
        client_id=get_client(session, client).id if client else None,
        auto_resolve=auto_resolve,
        group_by=group_by,
    )
    session.add(integration)
    session.flush()
    return integration, plain


def list_integrations(session: Session) -> list[Integration]:
    return list(session.scalars(select(Integration).order_by(Integration.id)))


def get_integration(session: Session, integration_id: int) -> Integration:
    integration = session.get(Integration, integration_id)
    if integration is None:
        raise NotFound(f"no integration {integration_id}")
    return integration


def revoke_integration(session: Session, integration_id: int) -> Integration:
    integration = get_integration(session, integration_id)
    integration.revoked_at = integration.revoked_at or utcnow()
    return integration


def authenticate(session: Session, kind: str, token: str) -> Integration:
    integration = session.scalar(select(Integration).where(Integration.token_hash == digest(token)))
    if integration is None or integration.revoked_at is not None:
        raise NotAuthenticated("invalid or revoked integration token")
    if integration.kind != kind:
        raise NotAuthenticated(
            f"this token belongs to a '{integration.kind}' integration; post to "
            f"/hooks/{integration.kind}"
        )
    return integration


@dataclass(frozen=True)
class CachedIntegration:
    id: int
    kind: str


class TokenCache:
    """Known-good tokens by hash for a few seconds, so a storm costs one lookup per token,
    not one per request. A revoked token keeps working for at most `ttl` seconds."""

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, CachedIntegration]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> CachedIntegration | None:
        key = digest(token)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= time.monotonic():
                self._entries.pop(key, None)
                return None
            return entry[1]

    def put(self, token: str, integration: Integration) -> CachedIntegration:
        cached = CachedIntegration(integration.id, integration.kind)
        with self._lock:
            if len(self._entries) > 10_000:  # bounded: only valid tokens get here anyway
                self._entries.clear()
            self._entries[digest(token)] = (time.monotonic() + self.ttl, cached)
        return cached

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def integration_id(self, session: Session, kind: str, token: str) -> int:
        """The id of the token's integration (cached), or NotAuthenticated saying why not."""
        cached = self.get(token)
        if cached is None:
            cached = self.put(token, authenticate(session, kind, token))
        elif cached.kind != kind:
            authenticate(session, kind, token)  # raises with the right message
        return cached.id


def add_mapping(
    session: Session,
    *,
    client: str,
    label: str | None = None,
    host_pattern: str | None = None,
    integration_id: int | None = None,
) -> ClientMapping:
    """Map alerts to a client: by a label (KEY=VALUE) or a host-name glob (`*.acme.local`)."""
    if (label is None) == (host_pattern is None):
        raise InvalidInput("give exactly one: a label KEY=VALUE or a host-name pattern")
    key = value = None
    if label is not None:
        key, sep, value = (part.strip() for part in label.partition("="))
        if not sep or not key or not value:
            raise InvalidInput(f"a label must look like KEY=VALUE (site=HQ), got '{label}'")
    elif not (host_pattern or "").strip():
        raise InvalidInput("the host-name pattern is empty")
    if integration_id is not None:
        get_integration(session, integration_id)
    mapping = ClientMapping(
        integration_id=integration_id,
        label_key=key,
        label_value=value,
        host_pattern=host_pattern.strip().lower() if host_pattern else None,
        client_id=get_client(session, client).id,
    )
    session.add(mapping)
    session.flush()
    return mapping


def list_mappings(session: Session) -> list[ClientMapping]:
    return list(session.scalars(select(ClientMapping).order_by(ClientMapping.id)))


def delete_mapping(session: Session, mapping_id: int) -> None:
    mapping = session.get(ClientMapping, mapping_id)
    if mapping is None:
        raise NotFound(f"no client mapping {mapping_id}")
    session.delete(mapping)
