"""Sending to a real SMTP server on loopback (aiosmtpd), and recording the outcome."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.smtp import Envelope
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.db import Database
from franchise.errors import InvalidInput
from franchise.messages import service
from franchise.settings import Settings
from franchise.tickets.models import Ticket
from franchise.tickets.service import history
from tests.messages.conftest import SENDER, SmtpServer, free_port
from tests.support import deliver_outbox

MakeTicket = Callable[..., Ticket]


def parsed(envelope: Envelope) -> EmailMessage:
    content = envelope.content
    assert isinstance(content, bytes)
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_a_message_is_delivered_and_recorded_on_the_ticket(
    session: Session,
    db: Database,
    make_ticket: MakeTicket,
    tech: Staff,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    ticket = make_ticket()
    message = service.send_message(
        session, ticket, template="resolved", by=tech, settings=smtp_server.settings(tmp_path)
    )
    deliver_outbox(session, db, smtp_server.settings(tmp_path))

    [envelope] = smtp_server.collector.envelopes
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == ["dana@harbour.example"]
    received = parsed(envelope)
    assert received["Subject"] == f"[#{ticket.id}] Your VPN connection is working again"
    assert received["From"] == f"Northwind IT <{SENDER}>"
    assert received["To"] == "dana@harbour.example"
    assert received["Message-ID"].endswith("@northwind-it.example>")
    body = received.get_content().replace("\r\n", "\n")
    assert body.startswith("Hello Dana Whitfield,\n\nGood news: we have fixed the VPN problem")
    assert "Open the VPN app and connect as usual." in body
    assert body.rstrip().endswith("Priya Shah\nIT Support")

    assert (message.status, message.error) == ("sent", None)
    assert message.sent_at is not None
    assert (message.template_key, message.stage) == ("vpn-reconnect-resolved", "resolved")
    assert message.body == body
    assert [m.id for m in service.list_messages(session, ticket)] == [message.id]
    event = history(session, ticket)[-1]
    assert (event.kind, event.actor_id) == ("message", tech.id)
    # The history keeps what was sent, word for word.
    assert event.note == f"e-mailed dana@harbour.example: {message.subject}\n\n{message.body}"
    service.check_delivered(message)  # does not raise


def test_an_explicit_recipient_overrides_the_contact(
    session: Session,
    db: Database,
    make_ticket: MakeTicket,
    tech: Staff,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    service.send_message(
        session,
        make_ticket(),
        template="progress-update",
        by=tech,
        settings=smtp_server.settings(tmp_path),
        to="front@harbour.example",
    )
    deliver_outbox(session, db, smtp_server.settings(tmp_path))
    [envelope] = smtp_server.collector.envelopes
    assert envelope.rcpt_tos == ["front@harbour.example"]
    assert parsed(envelope).get_content().startswith("Hello Sam Reception,")


def test_credentials_are_used_when_configured(
    session: Session,
    db: Database,
    make_ticket: MakeTicket,
    tech: Staff,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    settings = smtp_server.settings(
        tmp_path, smtp_user="relay", smtp_password="s3cret", smtp_allow_plain_auth=True
    )
    message = service.send_message(
        session, make_ticket(), template="update", by=tech, settings=settings
    )
    deliver_outbox(session, db, settings)
    assert message.status == "sent"
    assert smtp_server.logins == [("relay", "s3cret")]
    assert len(smtp_server.collector.envelopes) == 1


def test_the_password_is_never_sent_without_tls_unless_allowed(
    session: Session,
    db: Database,
    make_ticket: MakeTicket,
    tech: Staff,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    settings = smtp_server.settings(tmp_path, smtp_user="relay", smtp_password="s3cret")
    assert settings.smtp_tls == "none"
    message = service.send_message(
        session, make_ticket(), template="update", by=tech, settings=settings
    )
    deliver_outbox(session, db, settings)
    assert message.status == "failed"
    assert "not sending the SMTP password" in (message.error or "")
    assert smtp_server.logins == []
    assert smtp_server.collector.envelopes == []


def test_wrong_credentials_are_a_recorded_failure(
    session: Session,
    db: Database,
    make_ticket: MakeTicket,
    tech: Staff,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    settings = smtp_server.settings(
        tmp_path, smtp_user="relay", smtp_password="wrong", smtp_allow_plain_auth=True
    )
    message = service.send_message(
        session, make_ticket(), template="update", by=tech, settings=settings
    )
    deliver_outbox(session, db, settings)
    assert message.status == "failed"
    assert "refused the user name or password" in (message.error or "")
    assert smtp_server.collector.envelopes == []


def test_a_delivery_to_a_closed_port_is_recorded_and_waits_for_a_retry(
    session: Session, db: Database, make_ticket: MakeTicket, tech: Staff, tmp_path: Path
) -> None:
    port = free_port()  # bound and released: nothing listens there now
    settings = Settings(
        home=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_tls="none",
        smtp_from=SENDER,
    )
    ticket = make_ticket()
    message = service.send_message(
        session, ticket, template="acknowledged", by=tech, settings=settings
    )
    [outcome] = deliver_outbox(session, db, settings).values()
    # A closed port may open again: retried 30 seconds after the first attempt.
    assert (outcome.state, outcome.attempts) == ("retrying", 1)
    assert message.status == "retrying"
    assert message.sent_at is None
    assert f"could not deliver through SMTP server 127.0.0.1:{port}" in (message.error or "")
    assert service.list_messages(session, ticket)[0].status == "retrying"
    event = history(session, ticket)[-1]
    assert event.kind == "message_retrying"
    assert "retrying at" in (event.note or "")
    with pytest.raises(service.DeliveryFailed, match="it will be tried again") as caught:
        service.check_delivered(message)
    assert caught.value.errors[0]["status"] == "retrying"


def test_a_refused_recipient_is_recorded_with_the_server_reply(
    session: Session,
    db: Database,
    make_ticket: MakeTicket,
    tech: Staff,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    smtp_server.collector.refuse.add("dana@harbour.example")
    message = service.send_message(
        session, make_ticket(), template="update", by=tech, settings=smtp_server.settings(tmp_path)
    )
    deliver_outbox(session, db, smtp_server.settings(tmp_path))
    assert message.status == "failed"
    assert "550 5.1.1 mailbox unavailable" in (message.error or "")


def test_starttls_against_a_server_without_it_fails_clearly(
    session: Session,
    db: Database,
    make_ticket: MakeTicket,
    tech: Staff,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    settings = smtp_server.settings(tmp_path, smtp_tls="starttls")
    message = service.send_message(
        session, make_ticket(), template="update", by=tech, settings=settings
    )
    deliver_outbox(session, db, settings)
    assert message.status == "failed"
    assert "FRANCHISE_SMTP_TLS" in (message.error or "")


def test_sending_without_an_smtp_host_is_refused_before_anything_is_recorded(
    session: Session, db: Database, make_ticket: MakeTicket, tech: Staff, tmp_path: Path
) -> None:
    ticket = make_ticket()
    with pytest.raises(InvalidInput, match="FRANCHISE_SMTP_HOST"):
        service.send_message(
            session, ticket, template="update", by=tech, settings=Settings(home=tmp_path)
        )
    with pytest.raises(InvalidInput, match="FRANCHISE_SMTP_FROM"):
        service.send_message(
            session,
            ticket,
            template="update",
            by=tech,
            settings=Settings(home=tmp_path, smtp_host="127.0.0.1"),
        )
    assert service.list_messages(session, ticket) == []
