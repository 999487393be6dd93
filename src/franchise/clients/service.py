"""Client companies: add, find, list, edit and archive."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.clients.models import TIERS, Client
from franchise.db import utcnow
from franchise.errors import Conflict, InvalidInput, NotFound, PermissionDenied

MAX_NAME = 200
MAX_ENDPOINTS = 1_000_000
# Who keeps the client list and its contacts; every technician reads them (and may type a
# profile fact, which is what the team learns about a client).
WRITERS = ("owner", "admin", "service_manager")


def check_writer(role: str) -> None:
    if role not in WRITERS:
        raise PermissionDenied(
            "only the owner, an admin or a service manager may change clients and contacts"
        )


def _check_name(session: Session, name: str, *, other_than: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("a client needs a name")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"client name is {len(name)} characters; the limit is {MAX_NAME}")
    same = session.scalar(select(Client).where(func.lower(Client.name) == name.lower()))
    if same is not None and same.id != other_than:
        raise Conflict(f"client '{same.name}' already exists")
    return name


def _check_tier(tier: str) -> str:
    if tier not in TIERS:
        raise InvalidInput(f"unknown tier '{tier}' (use {', '.join(TIERS)})")
    return tier


def _check_endpoints(endpoints: int) -> int:
    if not 0 <= endpoints <= MAX_ENDPOINTS:
        raise InvalidInput(f"endpoints must be between 0 and {MAX_ENDPOINTS:,}, not {endpoints}")
    return endpoints


def add_client(
    session: Session, *, name: str, tier: str = "standard", endpoints: int = 0
) -> Client:
    _check_tier(tier)
    client = Client(
        name=_check_name(session, name), tier=tier, endpoint_count=_check_endpoints(endpoints)
    )
    session.add(client)
    session.flush()
    return client


def get_client(session: Session, ref: str | int) -> Client:
    text = str(ref).strip()
    client = (
        session.get(Client, int(text))
        if text.isdecimal() and len(text) < 10
        else session.scalar(select(Client).where(func.lower(Client.name) == text.lower()))
    )
    if client is None:
        raise NotFound(f"no client '{text}'")
    return client


def list_clients(session: Session, *, include_archived: bool = True) -> list[Client]:
    """Every client by name; pickers leave out the archived ones (their tickets keep them)."""
    query = select(Client).order_by(Client.name)
    if not include_archived:
        query = query.where(Client.archived_at.is_(None))
    return list(session.scalars(query))


def edit_client(
    session: Session,
    client: Client,
    *,
    name: str | None = None,
    tier: str | None = None,
    endpoints: int | None = None,
) -> Client:
    """Change what is given; everything is checked before anything changes."""
    new_name = _check_name(session, name, other_than=client.id) if name is not None else None
    new_tier = _check_tier(tier) if tier is not None else None
    new_count = _check_endpoints(endpoints) if endpoints is not None else None
    if new_name is not None:
        client.name = new_name
    if new_tier is not None:
        client.tier = new_tier
    if new_count is not None:
        client.endpoint_count = new_count
    session.flush()
    return client


def archive_client(session: Session, client: Client, *, archived: bool = True) -> Client:
    """Archive (or bring back) a client: it leaves the pickers; nothing of it is deleted."""
    if archived and client.archived_at is None:
        client.archived_at = utcnow()
    elif not archived:
        client.archived_at = None
    session.flush()
    return client


def client_dict(client: Client) -> dict[str, Any]:
    return {
        "id": client.id,
        "name": client.name,
        "tier": client.tier,
        "endpoints": client.endpoint_count,
        "archived": client.archived_at is not None,
        "archived_at": client.archived_at.isoformat() if client.archived_at else None,
        "created_at": client.created_at.isoformat() if client.created_at else None,
    }
