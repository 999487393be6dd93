"""Client companies."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.clients.models import TIERS, Client
from franchise.errors import Conflict, InvalidInput, NotFound


def add_client(
    session: Session, *, name: str, tier: str = "standard", endpoints: int = 0
) -> Client:
    if tier not in TIERS:
        raise InvalidInput(f"unknown tier '{tier}' (use {', '.join(TIERS)})")
    if not name.strip():
        raise InvalidInput("a client needs a name")
    if session.scalar(select(Client).where(func.lower(Client.name) == name.strip().lower())):
        raise Conflict(f"client '{name}' already exists")
    client = Client(name=name.strip(), tier=tier, endpoint_count=endpoints)
    session.add(client)
    session.flush()
    return client


def get_client(session: Session, ref: str | int) -> Client:
    text = str(ref).strip()
    client = (
        session.get(Client, int(text))
        if text.isdigit()
        else session.scalar(select(Client).where(func.lower(Client.name) == text.lower()))
    )
    if client is None:
        raise NotFound(f"no client '{text}'")
    return client


def list_clients(session: Session) -> list[Client]:
    return list(session.scalars(select(Client).order_by(Client.name)))
