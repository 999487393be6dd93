"""Clients and their contacts: add, edit, archive, find; requesters on tickets."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.service import add_staff
from franchise.clients.contacts import (
    ContactFields,
    add_contact,
    contact_by_email,
    edit_contact,
    get_contact,
    list_contacts,
    primary_contact,
)
from franchise.clients.service import (
    add_client,
    archive_client,
    edit_client,
    get_client,
    list_clients,
)
from franchise.errors import Conflict, InvalidInput, NotFound
from franchise.flows.client_contacts import remove_contact
from franchise.tickets.service import create_ticket, history, set_requester


def test_a_client_is_added_edited_and_found_by_name_or_id(session: Session) -> None:
    client = add_client(session, name="  Harbour Dental ", tier="premium", endpoints=14)
    assert client.name == "Harbour Dental"
    edit_client(session, client, name="Harbour Dental Group", endpoints=20)
    assert (client.name, client.tier, client.endpoint_count) == (
        "Harbour Dental Group",
        "premium",
        20,
    )
    assert get_client(session, "harbour dental group") is client
    assert get_client(session, str(client.id)) is client


def test_editing_refuses_a_taken_name_and_changes_nothing(session: Session) -> None:
    add_client(session, name="Acme")
    other = add_client(session, name="Brightside", tier="essential")
    with pytest.raises(Conflict, match="'Acme' already exists"):
        edit_client(session, other, name="ACME", tier="premium")
    assert (other.name, other.tier) == ("Brightside", "essential")
    with pytest.raises(InvalidInput, match="unknown tier 'gold'"):
        edit_client(session, other, tier="gold")
    with pytest.raises(InvalidInput, match="endpoints must be between"):
        add_client(session, name="Negative", endpoints=-1)


def test_archived_clients_leave_the_pickers_but_keep_their_tickets(session: Session) -> None:
    client = add_client(session, name="Old Co")
    add_client(session, name="New Co")
    ticket = create_ticket(session, title="Printer", client=client.id)
    archive_client(session, client)
    assert [c.name for c in list_clients(session, include_archived=False)] == ["New Co"]
    assert [c.name for c in list_clients(session)] == ["New Co", "Old Co"]
    assert ticket.client_id == client.id
    archive_client(session, client, archived=False)
    assert client.archived_at is None


def test_the_first_contact_is_primary_and_naming_another_demotes_it(session: Session) -> None:
    client = add_client(session, name="Harbour")
    dana = add_contact(session, client, ContactFields(name="Dana", email="Dana@Harbour.example"))
    sam = add_contact(
        session, client, ContactFields(name="Sam", phone="+44 20 7946 0000", vip=True)
    )
    assert (dana.is_primary, sam.is_primary, sam.is_vip) == (True, False, True)
    assert dana.email == "dana@harbour.example"
    edit_contact(session, sam, ContactFields(primary=True, approves_spend=True))
    session.refresh(dana)
    assert (dana.is_primary, sam.is_primary, sam.can_approve_spend) == (False, True, True)
    assert [c.name for c in list_contacts(session, client)] == ["Sam", "Dana"]
    # The primary contact for messages is the primary one with an e-mail address.
    assert primary_contact(session, client.id) is dana


def test_bad_contact_input_names_the_field_and_stores_nothing(session: Session) -> None:
    client = add_client(session, name="Harbour")
    with pytest.raises(InvalidInput, match="e-mail 'dana at harbour' is not"):
        add_contact(session, client, ContactFields(name="Dana", email="dana at harbour"))
    with pytest.raises(InvalidInput, match="phone 'call me' is not a phone number"):
        add_contact(session, client, ContactFields(name="Dana", phone="call me"))
    with pytest.raises(InvalidInput, match="needs a name"):
        add_contact(session, client, ContactFields(name="  "))
    assert list_contacts(session, client) == []
    dana = add_contact(session, client, ContactFields(name="Dana", email="dana@h.example"))
    with pytest.raises(Conflict, match="Dana already has the e-mail address"):
        add_contact(session, client, ContactFields(name="Other", email="DANA@h.example"))
    with pytest.raises(InvalidInput):
        edit_contact(session, dana, ContactFields(name="Dana W", mobile="not a number"))
    assert dana.name == "Dana"


def test_contacts_are_found_by_id_email_or_name_within_their_client(session: Session) -> None:
    harbour = add_client(session, name="Harbour")
    acme = add_client(session, name="Acme")
    dana = add_contact(session, harbour, ContactFields(name="Dana", email="dana@h.example"))
    assert get_contact(session, harbour, str(dana.id)) is dana
    assert get_contact(session, harbour, "DANA@h.example") is dana
    assert get_contact(session, harbour, "dana") is dana
    assert contact_by_email(session, harbour.id, "Dana@H.example") is dana
    with pytest.raises(NotFound, match="client 'Acme' has no contact"):
        get_contact(session, acme, str(dana.id))


def test_a_ticket_names_its_requester_and_changes_are_in_the_history(session: Session) -> None:
    tech = add_staff(session, name="Tess", email="t@x.example", role="technician", level="L1")
    client = add_client(session, name="Harbour")
    dana = add_contact(session, client, ContactFields(name="Dana", email="dana@h.example"))
    sam = add_contact(session, client, ContactFields(name="Sam"))
    # A contact id alone names the client too.
    ticket = create_ticket(session, title="VPN", requester=dana.id)
    assert (ticket.client_id, ticket.requester_id) == (client.id, dana.id)
    set_requester(session, ticket, "Sam", actor=tech)
    assert ticket.requester_id == sam.id
    event = history(session, ticket)[-1]
    assert (event.field, event.old_value, event.new_value, event.actor_id) == (
        "requester",
        "Dana",
        "Sam",
        tech.id,
    )
    other = add_client(session, name="Acme")
    with pytest.raises(NotFound, match="client 'Acme' has no contact"):
        create_ticket(session, title="x", client=other.id, requester=dana.id)
    with pytest.raises(InvalidInput, match="needs the ticket's client"):
        create_ticket(session, title="x", requester="Dana")


def test_removing_a_contact_clears_it_from_tickets_with_a_history_line(session: Session) -> None:
    client = add_client(session, name="Harbour")
    dana = add_contact(session, client, ContactFields(name="Dana", email="dana@h.example"))
    ticket = create_ticket(session, title="VPN", client=client.id, requester=dana.id)
    assert remove_contact(session, dana) == [ticket.id]
    assert ticket.requester_id is None
    last = history(session, ticket)[-1]
    assert last.kind == "requester_removed"
    assert last.note == "Requester Dana <dana@h.example> was removed from the client's contacts"
    assert list_contacts(session, client) == []
