"""JSON routes for clients, their contacts and their profile facts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from franchise.api.deps import ClientWriter, CurrentStaff, DbSession, Manager
from franchise.clients import contacts, facts, outage
from franchise.clients.schemas import ClientCreate, ClientUpdate, ContactBody
from franchise.clients.service import (
    add_client,
    archive_client,
    client_dict,
    edit_client,
    get_client,
    list_clients,
)
from franchise.flows.client_contacts import remove_contact

router = APIRouter(prefix="/clients", tags=["clients"])


class FactValue(BaseModel):
    value: str = Field(min_length=1, max_length=facts.MAX_VALUE)


@router.get("")
def clients(
    session: DbSession, _staff: CurrentStaff, archived: bool = False
) -> list[dict[str, Any]]:
    """Every client by name; `archived=true` includes the archived ones."""
    return [client_dict(c) for c in list_clients(session, include_archived=archived)]


@router.post("", status_code=201)
def create_client(body: ClientCreate, session: DbSession, _staff: ClientWriter) -> dict[str, Any]:
    return client_dict(
        add_client(session, name=body.name, tier=body.tier, endpoints=body.endpoints)
    )


@router.get("/{client}")
def show_client(client: str, session: DbSession, _staff: CurrentStaff) -> dict[str, Any]:
    """One client with its contacts and profile facts."""
    row = get_client(session, client)
    return client_dict(row) | {
        "contacts": [contacts.contact_dict(c) for c in contacts.list_contacts(session, row)],
        "facts": [f.to_dict() for f in facts.list_facts(session, row)],
    }


@router.patch("/{client}")
def update_client(
    client: str, body: ClientUpdate, session: DbSession, _staff: ClientWriter
) -> dict[str, Any]:
    row = edit_client(
        session,
        get_client(session, client),
        name=body.name,
        tier=body.tier,
        endpoints=body.endpoints,
    )
    if body.archived is not None:
        archive_client(session, row, archived=body.archived)
    return client_dict(row)


@router.delete("/{client}")
def archive(client: str, session: DbSession, _staff: ClientWriter) -> dict[str, Any]:
    """Archive the client (never deleted: its tickets, contacts and profile stay)."""
    return client_dict(archive_client(session, get_client(session, client)))


@router.get("/{client}/contacts")
def list_contacts(client: str, session: DbSession, _staff: CurrentStaff) -> list[dict[str, Any]]:
    row = get_client(session, client)
    return [contacts.contact_dict(c) for c in contacts.list_contacts(session, row)]


@router.post("/{client}/contacts", status_code=201)
def add_contact(
    client: str, body: ContactBody, session: DbSession, _staff: ClientWriter
) -> dict[str, Any]:
    row = get_client(session, client)
    return contacts.contact_dict(contacts.add_contact(session, row, body.fields()))


@router.patch("/{client}/contacts/{contact}")
def edit_contact(
    client: str, contact: str, body: ContactBody, session: DbSession, _staff: ClientWriter
) -> dict[str, Any]:
    row = contacts.get_contact(session, get_client(session, client), contact)
    return contacts.contact_dict(contacts.edit_contact(session, row, body.fields()))


@router.delete("/{client}/contacts/{contact}")
def delete_contact(
    client: str, contact: str, session: DbSession, _staff: ClientWriter
) -> dict[str, Any]:
    """Remove a contact; the tickets it requested say so in their history."""
    row = contacts.get_contact(session, get_client(session, client), contact)
    return {"removed": row.id, "tickets": remove_contact(session, row)}


@router.get("/{client}/facts")
def list_facts(client: str, session: DbSession, _staff: CurrentStaff) -> list[dict[str, Any]]:
    """The client's profile facts, each with where it came from and when."""
    return [f.to_dict() for f in facts.list_facts(session, get_client(session, client))]


@router.put("/{client}/facts/{key}")
def set_fact(
    client: str, key: str, body: FactValue, session: DbSession, staff: CurrentStaff
) -> dict[str, Any]:
    """Type a fact (any technician may: facts are what the team learns about a client)."""
    row = get_client(session, client)
    facts.set_fact(session, row, key, body.value, by=staff)
    return next(f.to_dict() for f in facts.list_facts(session, row) if f.key == key.lower())


@router.delete("/{client}/facts/{key}", status_code=204)
def unset_fact(client: str, key: str, session: DbSession, _staff: Manager) -> None:
    facts.unset_fact(session, get_client(session, client), key)


class OutageBody(BaseModel):
    """The client's own values; null returns one to the organisation's setting."""

    alert_groups: int | None = Field(default=None, ge=0, le=10_000)
    window_minutes: int | None = Field(default=None, ge=1, le=1440)


@router.get("/{client}/outage")
def show_outage(client: str, session: DbSession, _staff: CurrentStaff) -> dict[str, Any]:
    """Outage correlation for the client: the values in effect and where each comes from."""
    return outage.outage_settings(session, get_client(session, client)).to_dict()


@router.put("/{client}/outage")
def set_outage(
    client: str, body: OutageBody, session: DbSession, _staff: Manager
) -> dict[str, Any]:
    """Set both of the client's values (alert_groups 0: correlation off for the client;
    null: the organisation's value)."""
    row = get_client(session, client)
    return outage.set_outage(
        session, row, alert_groups=body.alert_groups, window_minutes=body.window_minutes
    ).to_dict()
