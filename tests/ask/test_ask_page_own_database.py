"""Asking the owner from the ticket page, served on a database of its own (a file, as
`franchise serve` runs), not the tests' shared connection: on SQLite every unit of work takes
the one write lock, so a page that read the notification's outcome in a second unit of work
inside its own waited 30 s for its own lock and answered 503."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from franchise.accounts.service import add_staff
from franchise.accounts.sessions import start_session
from franchise.app import create_app
from franchise.ask.reply import ticket_asks
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.settings import Settings
from franchise.tickets.service import create_ticket
from franchise.web.auth import SESSION_COOKIE


def test_an_ask_that_reaches_the_owner_is_answered_at_once(
    own_db: Database, tmp_path: Path
) -> None:
    with own_db.unit_of_work() as session:
        initialise(session)
        add_staff(session, name="Olivia Owner", email="o@example.com", role="owner", level="owner")
        ana = add_staff(
            session, name="Ana Tech", email="a@example.com", role="technician", level="L1"
        )
        ticket = create_ticket(
            session,
            title="Desk phone at reception does not ring",
            body="The phone shows registered; incoming calls never ring.",
        )
        ticket_id = ticket.id
        _row, cookie = start_session(session, ana)
    app = create_app(Settings(home=tmp_path), db=own_db)
    with TestClient(app, follow_redirects=False, cookies={SESSION_COOKIE: cookie}) as client:
        page = client.get(f"/tickets/{ticket_id}")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        asked = client.post(
            f"/tickets/{ticket_id}/ask",
            data={
                "csrf_token": token.group(1),
                "reason": "technical_decision",
                "question": "Replace the handset, or call the VoIP provider first?",
            },
            headers={"HX-Request": "true"},
        )
    assert asked.status_code == 200, asked.text[:500]
    assert "Sent to the owner" in asked.text
    # No notification channel in this office: the technician is told to phone.
    assert "the owner sees this only when they open Franchise" in asked.text
    assert "delivered: []" not in asked.text
    with own_db.unit_of_work() as session:
        assert len(ticket_asks(session, ticket_id)) == 1
