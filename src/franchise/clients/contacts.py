"""A client's contacts: the people who raise tickets, get our messages and approve spend.

(Not franchise.contacts, which counts how often the owner is interrupted.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from franchise.addresses import EMAIL
from franchise.clients.models import Client, ClientContact
from franchise.errors import Conflict, InvalidInput, NotFound

MAX_NAME = 200
MAX_PHONE = 64
MAX_ROLE = 100
PHONE = re.compile(r"^[0-9+() .\-/x]+$")


@dataclass(frozen=True)
class ContactFields:
    """What a person typed for a contact; None leaves a field as it is when editing."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    role: str | None = None
    primary: bool | None = None
    vip: bool | None = None
    approves_spend: bool | None = None


def _text(value: str, what: str, limit: int) -> str | None:
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"contact {what} is {len(value)} characters; the limit is {limit}")
    return value or None


def _email(value: str) -> str | None:
    value = value.strip()
    if value and (len(value) > 320 or not EMAIL.match(value)):
        raise InvalidInput(f"contact e-mail '{value}' is not a single e-mail address")
    return value.lower() or None


def _phone(value: str, what: str) -> str | None:
    value = value.strip()
    if value and (len(value) > MAX_PHONE or not PHONE.match(value)):
        raise InvalidInput(
            f"contact {what} '{value}' is not a phone number (digits, spaces, + ( ) - . / x)"
        )
    return value or None


def _checked(
    session: Session, client_id: int, contact_id: int | None, fields: ContactFields
) -> dict[str, Any]:
    """The column values for what was typed, every field checked before any is stored."""
    values: dict[str, Any] = {}
    if fields.name is not None:
        name = _text(fields.name, "name", MAX_NAME)
        if name is None:
            raise InvalidInput("a contact needs a name")
        values["name"] = name
    if fields.email is not None:
        values["email"] = _email(fields.email)
        if values["email"] is not None:
            same = session.scalar(
                select(ClientContact).where(
                    ClientContact.client_id == client_id,
                    func.lower(ClientContact.email) == values["email"],
                )
            )
            if same is not None and same.id != contact_id:
                raise Conflict(f"{same.name} already has the e-mail address {values['email']}")
    if fields.phone is not None:
        values["phone"] = _phone(fields.phone, "phone")
    if fields.mobile is not None:
        values["mobile"] = _phone(fields.mobile, "mobile")
    if fields.role is not None:
        values["role"] = _text(fields.role, "role", MAX_ROLE)
    for flag, column in (
        ("primary", "is_primary"),
        ("vip", "is_vip"),
        ("approves_spend", "can_approve_spend"),
    ):
        if getattr(fields, flag) is not None:
            values[column] = bool(getattr(fields, flag))
    return values


def _store(session: Session, contact: ClientContact, values: dict[str, Any]) -> None:
    for column, value in values.items():
        setattr(contact, column, value)
    session.flush()
    if values.get("is_primary"):
        # One primary contact per client: naming a new one demotes the old.
        session.execute(
            update(ClientContact)
            .where(
                ClientContact.client_id == contact.client_id,
                ClientContact.id != contact.id,
                ClientContact.is_primary.is_(True),
            )
            .values(is_primary=False)
            .execution_options(synchronize_session="fetch")
        )


def add_contact(session: Session, client: Client, fields: ContactFields) -> ClientContact:
    if fields.name is None:
        raise InvalidInput("a contact needs a name")
    values = _checked(session, client.id, None, fields)
    # The first contact of a client is its primary one unless told otherwise.
    first = session.scalar(select(ClientContact.id).where(ClientContact.client_id == client.id))
    values.setdefault("is_primary", first is None)
    contact = ClientContact(client_id=client.id, is_vip=False, can_approve_spend=False)
    session.add(contact)
    _store(session, contact, values)
    return contact


def edit_contact(session: Session, contact: ClientContact, fields: ContactFields) -> ClientContact:
    _store(session, contact, _checked(session, contact.client_id, contact.id, fields))
    return contact


def list_contacts(session: Session, client: Client | int) -> list[ClientContact]:
    """Primary first, then by name."""
    client_id = client if isinstance(client, int) else client.id
    return list(
        session.scalars(
            select(ClientContact)
            .where(ClientContact.client_id == client_id)
            .order_by(ClientContact.is_primary.desc(), ClientContact.name, ClientContact.id)
        )
    )


def get_contact(session: Session, client: Client, ref: str | int) -> ClientContact:
    """A contact of this client by id, e-mail address or name (any case)."""
    text = str(ref).strip()
    query = select(ClientContact).where(ClientContact.client_id == client.id)
    if text.isdecimal() and len(text) < 10:
        found = session.scalar(query.where(ClientContact.id == int(text)))
    elif "@" in text:
        found = session.scalar(query.where(func.lower(ClientContact.email) == text.lower()))
    else:
        rows = list(session.scalars(query.where(func.lower(ClientContact.name) == text.lower())))
        if len(rows) > 1:
            raise Conflict(f"{client.name} has {len(rows)} contacts named '{text}'; give the id")
        found = rows[0] if rows else None
    if found is None:
        raise NotFound(f"client '{client.name}' has no contact '{text}'")
    return found


def contact_by_id(session: Session, contact_id: int) -> ClientContact:
    contact = session.get(ClientContact, contact_id) if contact_id < 2**31 else None
    if contact is None:
        raise NotFound(f"no contact #{contact_id}")
    return contact


def contact_by_email(session: Session, client_id: int, address: str) -> ClientContact | None:
    """The client's contact with this e-mail address (any case), if there is one."""
    return session.scalar(
        select(ClientContact)
        .where(
            ClientContact.client_id == client_id,
            func.lower(ClientContact.email) == address.strip().lower(),
        )
        .order_by(ClientContact.id)
        .limit(1)
    )


def primary_contact(session: Session, client_id: int) -> ClientContact | None:
    """The primary contact with an e-mail address, else the first contact with one."""
    return session.scalar(
        select(ClientContact)
        .where(ClientContact.client_id == client_id, ClientContact.email.is_not(None))
        .order_by(ClientContact.is_primary.desc(), ClientContact.id)
        .limit(1)
    )


def phones(contact: ClientContact) -> list[str]:
    return [p for p in (contact.phone, contact.mobile) if p]


def contact_dict(contact: ClientContact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "client_id": contact.client_id,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "mobile": contact.mobile,
        "role": contact.role,
        "primary": contact.is_primary,
        "vip": contact.is_vip,
        "approves_spend": contact.can_approve_spend,
    }
