"""The resolved message sent on resolve, when the organisation switches it on."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff, create_token
from franchise.app import create_app
from franchise.cli.context import CliContext
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.flows.resolving import resolve
from franchise.messages import service
from franchise.orgsettings.models import OrgSetting
from franchise.orgsettings.service import set_setting
from franchise.settings import Settings
from franchise.tickets.models import Ticket
from franchise.tickets.service import create_ticket, get_ticket, history
from tests.messages.conftest import SENDER, SmtpServer
from tests.messages.test_cli import ticket_id  # noqa: F401 - a fixture used by name
from tests.support import CliInvoker, deliver_outbox

MakeTicket = Callable[..., Ticket]
# The tickets follow a runbook nobody ran: resolving them says why.
FIXED = "Fixed while on the phone with the client"


def kinds_and_notes(session: Session, ticket: Ticket) -> list[tuple[str, str]]:
    return [
        (e.kind, e.note or "") for e in history(session, ticket) if e.kind.startswith("message")
    ]


def test_with_the_setting_off_resolving_sends_nothing(
    session: Session,
    make_ticket: MakeTicket,
    tech: Staff,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    ticket = make_ticket()
    _done, sent = resolve(
        session, ticket, by=tech, skip_reason=FIXED, settings=smtp_server.settings(tmp_path)
    )
    assert (ticket.status, sent.status) == ("resolved", "off")
    assert smtp_server.collector.envelopes == []
    assert kinds_and_notes(session, ticket) == []


def test_resolving_e_mails_the_runbook_resolved_message_to_the_primary_contact(
    session: Session,
    db: Database,
    make_ticket: MakeTicket,
    tech: Staff,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    set_setting(session, "auto_send_resolved_message", "on")
    ticket = make_ticket()
    _done, sent = resolve(
        session, ticket, by=tech, skip_reason=FIXED, settings=smtp_server.settings(tmp_path)
    )
    assert (ticket.status, sent.status) == ("resolved", "queued")
    assert smtp_server.collector.envelopes == []  # not before the commit
    deliver_outbox(session, db, smtp_server.settings(tmp_path))
    sent = service.settle_auto_send(db, sent)
    assert sent.status == "sent"
    assert sent.text == "Resolved message sent to dana@harbour.example"
    [envelope] = smtp_server.collector.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == (SENDER, ["dana@harbour.example"])
    content = envelope.content
    assert isinstance(content, bytes)
    assert b"Your VPN connection is working again" in content  # the VPN runbook's own template
    [message] = service.list_messages(session, ticket)
    assert (message.template_key, message.stage, message.status, message.author_id) == (
        "vpn-reconnect-resolved",
        "resolved",
        "sent",
        tech.id,
    )
    assert "Priya Shah" in message.body  # signed by whoever resolved it
    # Recorded exactly like a message sent by hand.
    assert kinds_and_notes(session, ticket) == [
        ("message", f"e-mailed dana@harbour.example: {message.subject}\n\n{message.body}")
    ]


def test_the_organisation_name_from_settings_signs_the_message(
    session: Session, make_ticket: MakeTicket, tech: Staff
) -> None:
    set_setting(session, "org_name", "Northwind Managed IT")
    rendered = service.render_for_ticket(session, make_ticket(), "resolved", technician=tech)
    assert rendered.body.rstrip().endswith("Priya Shah\nNorthwind Managed IT")


def test_without_a_contact_address_the_ticket_resolves_and_the_history_says_why(
    session: Session, tech: Staff, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    set_setting(session, "auto_send_resolved_message", True)
    add_client(session, name="Quiet Co")
    ticket = create_ticket(session, title="Disk full", client="Quiet Co")
    _done, sent = resolve(
        session, ticket, by=tech, skip_reason=FIXED, settings=smtp_server.settings(tmp_path)
    )
    assert (ticket.status, sent.status) == ("resolved", "skipped")
    assert smtp_server.collector.envelopes == []
    assert service.list_messages(session, ticket) == []
    [(kind, note)] = kinds_and_notes(session, ticket)
    assert kind == "message_skipped"
    assert note.startswith("Resolved message not sent: client 'Quiet Co' has no contact")


def test_a_ticket_without_a_client_resolves_and_the_history_says_why(
    session: Session, tech: Staff, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    set_setting(session, "auto_send_resolved_message", "yes")
    ticket = create_ticket(session, title="Question about the invoice")
    _done, sent = resolve(
        session, ticket, by=tech, skip_reason=FIXED, settings=smtp_server.settings(tmp_path)
    )
    assert (ticket.status, sent.status) == ("resolved", "skipped")
    assert "has no client" in sent.text


def test_without_smtp_set_up_the_ticket_resolves_and_the_history_says_what_to_set(
    session: Session, make_ticket: MakeTicket, tech: Staff, tmp_path: Path
) -> None:
    set_setting(session, "auto_send_resolved_message", "on")
    ticket = make_ticket()
    _done, sent = resolve(
        session, ticket, by=tech, skip_reason=FIXED, settings=Settings(home=tmp_path)
    )
    assert (ticket.status, sent.status) == ("resolved", "skipped")
    [(kind, note)] = kinds_and_notes(session, ticket)
    assert kind == "message_skipped"
    assert "FRANCHISE_SMTP_HOST" in note


def test_a_broken_stored_switch_does_not_stop_the_resolve(
    session: Session, make_ticket: MakeTicket, tech: Staff, tmp_path: Path
) -> None:
    session.add(OrgSetting(key="auto_send_resolved_message", value={"value": "maybe"}))
    ticket = make_ticket()
    _done, sent = resolve(
        session, ticket, by=tech, skip_reason=FIXED, settings=Settings(home=tmp_path)
    )
    assert (ticket.status, sent.status) == ("resolved", "skipped")
    assert "auto_send_resolved_message" in sent.text


# --- the CLI and the API, committed as they commit ----------------------------------------------


@pytest.fixture
def committed(db: Database, ticket_id: int) -> int:  # noqa: F811
    """The message CLI tests' ticket (a client with a primary contact), the switch on."""
    with db.unit_of_work() as session:
        set_setting(session, "auto_send_resolved_message", "on")
    return ticket_id


def cli_for(db: Database, settings: Settings) -> CliInvoker:
    return CliInvoker(CliContext(_settings=settings, db=db, migrated=True))


def test_cli_resolve_sends_the_message_and_says_so(
    db: Database, committed: int, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    cli = cli_for(db, smtp_server.settings(tmp_path))
    result = cli(
        "ticket",
        "resolve",
        str(committed),
        "--by",
        "priya@msp.example",
        "--skip-reason",
        FIXED,
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["status"], data["offer_message"]) == ("resolved", None)
    assert data["resolved_message"]["status"] == "sent"
    assert data["resolved_message"]["message"]["template"] == "vpn-reconnect-resolved"
    [envelope] = smtp_server.collector.envelopes
    assert envelope.rcpt_tos == ["dana@harbour.example"]


def test_cli_a_refused_delivery_keeps_the_resolve_and_the_failed_record(
    db: Database, committed: int, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    smtp_server.collector.refuse.add("dana@harbour.example")
    cli = cli_for(db, smtp_server.settings(tmp_path))
    result = cli(
        "ticket", "resolve", str(committed), "--by", "priya@msp.example", "--skip-reason", FIXED
    )
    assert result.exit_code == 0, result.output
    assert f"Ticket #{committed} resolved." in result.stdout
    assert "Resolved message not delivered to dana@harbour.example" in result.stderr
    assert "550" in result.stderr
    assert f"franchise message send resolved --ticket {committed}" in result.stdout
    with db.unit_of_work() as session:
        ticket = get_ticket(session, committed)
        assert ticket.status == "resolved"
        [message] = service.list_messages(session, ticket)
        assert message.status == "failed"
        assert [k for k, _ in kinds_and_notes(session, ticket)] == ["message_failed"]


def test_cli_without_smtp_resolves_and_prints_why_nothing_was_sent(
    db: Database, committed: int, tmp_path: Path
) -> None:
    cli = cli_for(db, Settings(home=tmp_path))
    result = cli(
        "ticket", "resolve", str(committed), "--by", "priya@msp.example", "--skip-reason", FIXED
    )
    assert result.exit_code == 0, result.output
    assert "Resolved message not sent: client e-mail is not set up" in result.stderr
    with db.unit_of_work() as session:
        ticket = get_ticket(session, committed)
        assert ticket.status == "resolved"
        assert [k for k, _ in kinds_and_notes(session, ticket)] == ["message_skipped"]


def test_api_resolve_reports_the_message_it_sent(
    db: Database, committed: int, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    with db.unit_of_work() as session:
        staff = add_staff(
            session, name="Olu Owner", email="olu@msp.example", role="owner", level="owner"
        )
        headers = {"Authorization": f"Bearer {create_token(session, staff=staff, name='t')[1]}"}
    app = create_app(smtp_server.settings(tmp_path), db=db)
    with TestClient(app) as api:
        response = api.post(
            f"/api/v1/tickets/{committed}/resolve", json={"skip_reason": FIXED}, headers=headers
        )
        assert response.status_code == 200, response.text
        data = response.json()
        assert (data["status"], data["offer_message"]) == ("resolved", None)
        sent = data["resolved_message"]
        assert (sent["status"], sent["message"]["to"]) == ("sent", "dana@harbour.example")
        listed = api.get(f"/api/v1/tickets/{committed}/messages", headers=headers).json()
        assert [m["id"] for m in listed] == [sent["message"]["id"]]
    assert len(smtp_server.collector.envelopes) == 1
