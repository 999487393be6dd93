"""Where a ticket's requester comes from: e-mail in, PSA imports; and where it shows: the
identity check's number on file."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.bootstrap import initialise
from franchise.clients.contacts import ContactFields, add_contact, list_contacts
from franchise.clients.service import add_client, get_client
from franchise.db import Database
from franchise.flows.runs import begin_run, record_answer, runner_view
from franchise.mailin.parse import IncomingMail
from franchise.mailin.service import handle_mail
from franchise.psa.importer import import_tickets
from franchise.runbooks import service as runbooks
from franchise.tickets.models import Ticket
from franchise.tickets.service import create_ticket


def _mail(sender: str, message_id: str) -> IncomingMail:
    return IncomingMail(
        message_id=message_id,
        sender=sender,
        sender_name="",
        subject="Locked out of my account",
        text="It says my account is locked.",
        ticket_ref=None,
    )


def test_mail_from_a_contact_names_them_requester(session: Session) -> None:
    client = add_client(session, name="Harbour")
    dana = add_contact(session, client, ContactFields(name="Dana", email="dana@harbour.example"))
    add_contact(session, client, ContactFields(name="Sam", email="sam@harbour.example"))
    known = handle_mail(session, _mail("dana@harbour.example", "<a@x>"), max_attachment_bytes=1000)
    # Someone new at the client's domain: the client is known, the requester is not.
    stranger = handle_mail(
        session, _mail("new@harbour.example", "<b@x>"), max_attachment_bytes=1000
    )
    first = session.get(Ticket, known.ticket_id)
    second = session.get(Ticket, stranger.ticket_id)
    assert first is not None and second is not None
    assert (first.client_id, first.requester_id) == (client.id, dana.id)
    assert (second.client_id, second.requester_id) == (client.id, None)


def test_a_psa_export_with_a_contact_column_sets_the_requester(
    db: Database, tmp_path: Path
) -> None:
    with db.unit_of_work() as session:
        initialise(session)
        client = add_client(session, name="Harbor Dental Group")
        add_contact(
            session, client, ContactFields(name="Maria Lopez", email="maria@harbor.example")
        )
    export = tmp_path / "tickets.csv"
    export.write_text(
        "Ticket #,Summary,Company,Contact\n"
        "101,VPN down,Harbor Dental Group,Maria Lopez\n"
        "102,Printer jam,Harbor Dental Group,ken@harbor.example\n"
        "103,Disk full,Harbor Dental Group,\n",
        encoding="utf-8",
    )
    report = import_tickets(db, export, format="connectwise")
    assert (report.imported, report.errors) == (3, [])
    with db.unit_of_work() as session:
        people = {
            c.id: c for c in list_contacts(session, get_client(session, "Harbor Dental Group"))
        }
        by_number = {
            t.external_id: t.requester_id
            for t in session.scalars(select(Ticket).where(Ticket.source == "import"))
        }
        assert people[by_number["101"] or 0].name == "Maria Lopez"
        # A requester the client did not have is added as a contact.
        added = people[by_number["102"] or 0]
        assert (added.name, added.email) == ("ken", "ken@harbor.example")
        assert by_number["103"] is None


def test_a_ticket_moved_to_another_client_in_the_psa_takes_that_clients_requester(
    db: Database, tmp_path: Path
) -> None:
    """The requester is who client messages go to first: after a move in the PSA it is never
    the old client's contact."""
    with db.unit_of_work() as session:
        initialise(session)
        add_client(session, name="Harbor Dental Group")
        add_client(session, name="Oak Legal")
    export = tmp_path / "tickets.csv"
    export.write_text(
        "Ticket #,Summary,Company,Contact\n"
        "101,VPN down,Harbor Dental Group,maria@harbor.example\n"
        "102,Printer jam,Harbor Dental Group,ken@harbor.example\n",
        encoding="utf-8",
    )
    assert import_tickets(db, export, format="connectwise").imported == 2
    export.write_text(
        "Ticket #,Summary,Company,Contact\n"
        "101,VPN down,Oak Legal,jo@oak.example\n"
        "102,Printer jam,Oak Legal,\n",
        encoding="utf-8",
    )
    report = import_tickets(db, export, format="connectwise")
    assert (report.updated, report.errors) == (2, [])
    with db.unit_of_work() as session:
        oak = get_client(session, "Oak Legal")
        tickets = {
            t.external_id: t
            for t in session.scalars(select(Ticket).where(Ticket.source == "import"))
        }
        moved, emptied = tickets["101"], tickets["102"]
        assert moved.client_id == emptied.client_id == oak.id
        jo = [c for c in list_contacts(session, oak) if c.email == "jo@oak.example"]
        assert moved.requester_id == jo[0].id
        # No requester named in the PSA: the old client's contact is dropped, not kept.
        assert emptied.requester_id is None


def test_the_identity_check_shows_the_requesters_number_on_file(session: Session) -> None:
    initialise(session)
    client = add_client(session, name="Harbour")
    dana = add_contact(
        session,
        client,
        ContactFields(
            name="Dana", email="dana@h.example", phone="0161 555 0101", mobile="07700 900123"
        ),
    )
    ticket = create_ticket(session, title="Locked out", client=client.id, requester=dana.id)
    runbook = runbooks.get_runbook(session, "account-lockout")
    run = begin_run(session, runbook, ticket=ticket, actor=None)
    view = runner_view(session, run)
    # Walk to the shared identity step, whatever the runbook asks before it.
    for _ in range(10):
        if runbooks.run_state(session, run).step.used_from == "verify-identity":
            break
        assert "on_file" not in view["next"]
        nxt = view["next"]
        record_answer(session, run, step=nxt["step"], reply=nxt["options"][0], actor=None)
        view = runner_view(session, run)
    assert runbooks.run_state(session, run).step.used_from == "verify-identity"
    assert view["next"]["on_file"] == {
        "name": "Dana",
        "phones": ["0161 555 0101", "07700 900123"],
        "text": "Number on file for Dana: 0161 555 0101 or 07700 900123",
    }
