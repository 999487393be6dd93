"""Sending a client message and resolving with the resolved message switched on, from the
ticket page served on a database of its own (a file, as `franchise serve` runs) and a real
SMTP server: the page reads how the delivery went in the unit of work it answers from. On
SQLite a second unit of work inside it waited 30 s for its own lock and answered 503."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from franchise.accounts.service import add_staff
from franchise.accounts.sessions import start_session
from franchise.app import create_app
from franchise.bootstrap import initialise
from franchise.clients.models import ClientContact
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.messages.service import AUTO_SEND_SETTING
from franchise.orgsettings.service import set_setting
from franchise.tickets.models import Ticket
from franchise.tickets.service import create_ticket
from franchise.web.auth import SESSION_COOKIE
from tests.messages.conftest import SmtpServer


def test_the_page_reports_a_sent_message_and_a_resolved_message_at_once(
    own_db: Database, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    with own_db.unit_of_work() as session:
        initialise(session)
        tech = add_staff(
            session,
            name="Priya Shah",
            email="priya@northwind-it.example",
            role="technician",
            level="L2",
        )
        client = add_client(session, name="Harbour Dental", tier="premium", endpoints=14)
        session.add(
            ClientContact(
                client_id=client.id,
                name="Dana Whitfield",
                email="dana@harbour.example",
                is_primary=True,
            )
        )
        ticket = create_ticket(
            session, title="Reception PC will not print", client=client.id, category="printer"
        )
        set_setting(session, AUTO_SEND_SETTING, True)
        ticket_id = ticket.id
        _row, cookie = start_session(session, tech)
    app = create_app(smtp_server.settings(tmp_path), db=own_db)
    with TestClient(app, follow_redirects=False, cookies={SESSION_COOKIE: cookie}) as client_:
        page = client_.get(f"/tickets/{ticket_id}")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        sent = client_.post(
            f"/tickets/{ticket_id}/message",
            data={"csrf_token": token.group(1), "template": "progress-update"},
            headers={"HX-Request": "true"},
        )
        assert sent.status_code == 200, sent.text[:500]
        assert "Sent to dana@harbour.example" in sent.text
        resolved = client_.post(
            f"/tickets/{ticket_id}/resolve",
            data={"csrf_token": token.group(1), "skip_reason": "Printer fixed on site."},
            headers={"HX-Request": "true"},
        )
        assert resolved.status_code == 200, resolved.text[:800]
        assert "Resolved message sent to dana@harbour.example" in resolved.text
    assert [e.rcpt_tos for e in smtp_server.collector.envelopes] == [
        ["dana@harbour.example"],
        ["dana@harbour.example"],
    ]
    with own_db.unit_of_work() as session:
        assert session.get_one(Ticket, ticket_id).status == "resolved"
