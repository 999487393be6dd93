"""Messages go to the ticket's requester, may copy the primary contact, and carry the text
the technician edited: what is stored and in the history is what was sent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.clients.models import Client, ClientContact
from franchise.db import Database
from franchise.errors import InvalidInput
from franchise.messages import service
from franchise.tickets.models import Ticket
from franchise.tickets.service import history
from tests.messages.conftest import SmtpServer
from tests.messages.test_smtp import parsed
from tests.support import deliver_outbox

MakeTicket = Callable[..., Ticket]


def _sam(session: Session, client: Client) -> ClientContact:
    sam = session.scalar(select(ClientContact).where(ClientContact.name == "Sam Reception"))
    assert sam is not None and sam.client_id == client.id
    return sam


def test_the_requester_gets_the_message_and_the_primary_contact_is_offered_as_cc(
    session: Session, client: Client, make_ticket: MakeTicket, tech: Staff
) -> None:
    ticket = make_ticket(requester=_sam(session, client).id)
    rendered = service.render_for_ticket(session, ticket, "update", technician=tech)
    assert (rendered.to, rendered.to_kind, rendered.to_name) == (
        "front@harbour.example",
        "requester",
        "Sam Reception",
    )
    assert "Sam Reception" in rendered.body
    assert (rendered.cc, rendered.cc_name) == ("dana@harbour.example", "Dana Whitfield")
    # Without a requester the primary contact is written to, and there is no one to copy.
    plain = service.render_for_ticket(session, make_ticket(), "update", technician=tech)
    assert (plain.to, plain.to_kind, plain.cc) == ("dana@harbour.example", "primary", "")


def test_an_edited_body_with_a_copy_is_what_is_delivered_stored_and_shown(
    session: Session,
    db: Database,
    client: Client,
    make_ticket: MakeTicket,
    tech: Staff,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    ticket = make_ticket(requester=_sam(session, client).id)
    settings = smtp_server.settings(tmp_path)
    edited = "Hello Sam,\r\n\r\nThe VPN is back; restart the app once.\r\n\r\nPriya"
    message = service.send_message(
        session,
        ticket,
        template="update",
        by=tech,
        settings=settings,
        cc_primary=True,
        body=edited,
    )
    deliver_outbox(session, db, settings)

    [envelope] = smtp_server.collector.envelopes
    assert envelope.rcpt_tos == ["front@harbour.example", "dana@harbour.example"]
    received = parsed(envelope)
    assert (received["To"], received["Cc"]) == ("front@harbour.example", "dana@harbour.example")
    sent_text = "Hello Sam,\n\nThe VPN is back; restart the app once.\n\nPriya\n"
    assert received.get_content().replace("\r\n", "\n") == sent_text
    assert (message.body, message.edited, message.cc_address) == (
        sent_text,
        True,
        "dana@harbour.example",
    )
    event = history(session, ticket)[-1]
    assert event.kind == "message"
    assert event.note is not None
    assert event.note.startswith("e-mailed front@harbour.example (copy to dana@harbour.example): ")
    assert "[edited before sending]" in event.note
    assert event.note.endswith(sent_text)


def test_an_unchanged_body_is_not_marked_edited(
    session: Session, make_ticket: MakeTicket, tech: Staff, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    ticket = make_ticket()
    rendered = service.render_for_ticket(session, ticket, "update", technician=tech)
    message = service.send_message(
        session,
        ticket,
        template="update",
        by=tech,
        settings=smtp_server.settings(tmp_path),
        body=rendered.body.replace("\n", "\r\n"),
    )
    assert message.edited is False
    assert message.body == rendered.body


def test_an_empty_body_or_a_copy_to_nobody_is_refused(
    session: Session, make_ticket: MakeTicket, tech: Staff, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    ticket = make_ticket()
    settings = smtp_server.settings(tmp_path)
    with pytest.raises(InvalidInput, match="the message body is empty"):
        service.send_message(
            session, ticket, template="update", by=tech, settings=settings, body="  \n"
        )
    # The recipient is already the primary contact: there is nobody else to copy.
    with pytest.raises(InvalidInput, match="no primary contact with an e-mail address to copy"):
        service.send_message(
            session, ticket, template="update", by=tech, settings=settings, cc_primary=True
        )
    assert service.list_messages(session, ticket) == []
