"""The client profile: facts (VPN, backup product, mail gateway ...) that answer runbook checks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.clients.models import Client, ClientFact
from franchise.db import utcnow
from franchise.errors import InvalidInput, NotFound

FACT_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
MAX_VALUE = 500
SOURCES = ("typed", "runbook")


@dataclass(frozen=True)
class FactView:
    key: str
    value: str
    source: str
    ticket_id: int | None
    set_by: str | None
    updated_at: datetime

    @property
    def origin(self) -> str:
        """Where the fact came from, in words."""
        if self.source == "runbook" and self.ticket_id is not None:
            return f"saved from a runbook answer on ticket #{self.ticket_id}"
        return "typed" + (f" by {self.set_by}" if self.set_by else "")

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "value": self.value,
            "source": self.source,
            "ticket_id": self.ticket_id,
            "set_by": self.set_by,
            "origin": self.origin,
            "updated_at": self.updated_at.isoformat(),
        }


def facts_of(session: Session, client_id: int | None) -> dict[str, str]:
    """key -> value for a client (empty when the ticket has no client)."""
    if client_id is None:
        return {}
    rows = session.execute(
        select(ClientFact.key, ClientFact.value).where(ClientFact.client_id == client_id)
    )
    return {str(k): str(v) for k, v in rows}


def list_facts(session: Session, client: Client) -> list[FactView]:
    rows = session.execute(
        select(ClientFact, Staff.name)
        .outerjoin(Staff, Staff.id == ClientFact.set_by_id)
        .where(ClientFact.client_id == client.id)
        .order_by(ClientFact.key)
    )
    return [FactView(f.key, f.value, f.source, f.ticket_id, name, f.updated_at) for f, name in rows]


def set_fact(
    session: Session,
    client: Client,
    key: str,
    value: str,
    *,
    by: Staff | None,
    source: str = "typed",
    ticket_id: int | None = None,
) -> ClientFact:
    """Create or change one fact; the previous value is replaced (the ticket history keeps
    runbook-saved facts, the CLI and API say who typed one)."""
    key = key.strip().lower()
    if not FACT_KEY.match(key):
        raise InvalidInput(
            f"fact key '{key}' must start with a letter and use a-z, 0-9, _ or - (64 at most)"
        )
    value = value.strip()
    if not value:
        raise InvalidInput(f"fact '{key}' needs a value")
    if len(value) > MAX_VALUE:
        raise InvalidInput(f"fact '{key}' is {len(value)} characters; the limit is {MAX_VALUE}")
    if source not in SOURCES:
        raise InvalidInput(f"unknown fact source '{source}' (use {', '.join(SOURCES)})")
    row = session.scalar(
        select(ClientFact).where(ClientFact.client_id == client.id, ClientFact.key == key)
    )
    if row is None:
        row = ClientFact(client_id=client.id, key=key, value=value)
        session.add(row)
    row.value, row.source, row.ticket_id = value, source, ticket_id
    row.set_by_id = by.id if by else None
    row.updated_at = utcnow()
    session.flush()
    return row


def unset_fact(session: Session, client: Client, key: str) -> None:
    row = session.scalar(
        select(ClientFact).where(ClientFact.client_id == client.id, ClientFact.key == key)
    )
    if row is None:
        raise NotFound(f"client '{client.name}' has no fact '{key}'")
    session.delete(row)
    session.flush()
