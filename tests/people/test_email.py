"""E-mail is everyone's channel once SMTP is set up: the holder of an escalation gets one."""

from __future__ import annotations

from email import message_from_bytes
from pathlib import Path

from sqlalchemy.orm import Session

from franchise.accounts.service import add_staff
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.duty.service import set_shift
from franchise.flows.escalations import escalate
from franchise.tickets.service import create_ticket
from tests.messages.conftest import SmtpServer, _smtp_controller, smtp_server  # noqa: F401
from tests.support import deliver_outbox


def test_the_holder_of_an_escalation_is_emailed(
    session: Session,
    db: Database,
    smtp_server: SmtpServer,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    settings = smtp_server.settings(tmp_path, public_url="https://franchise.example")
    session.info["franchise_settings"] = settings
    initialise(session)
    lia = add_staff(session, name="Lia", email="lia@example.com", role="technician", level="L1")
    max_ = add_staff(session, name="Max", email="max@example.com", role="technician", level="L2")
    set_shift(session, level="L2", staff=max_, days="daily", hours="00:00-00:00")
    ticket = create_ticket(session, title="Printer on fire", body="smoke")
    escalate(session, ticket, to="L2", by=lia)
    deliver_outbox(session, db, settings)
    (envelope,) = smtp_server.collector.envelopes
    assert envelope.rcpt_tos == ["max@example.com"]
    mail = message_from_bytes(envelope.original_content or b"")
    assert mail["Subject"] == f"Ticket #{ticket.id} escalated to you"
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Lia escalated 'Printer on fire' to L2; you now hold it." in body
    assert f"Open ticket: https://franchise.example/tickets/{ticket.id}" in body
