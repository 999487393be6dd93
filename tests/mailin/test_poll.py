"""E-mail in, end to end against Dovecot: tickets, replies, attachments, exactly once."""

from __future__ import annotations

import json
import re
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from franchise.bootstrap import initialise
from franchise.cli import FranchiseGroup, mail_cmds
from franchise.cli.context import CliContext
from franchise.clients.models import ClientContact
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.mailin.models import MailMessage, TicketAttachment
from franchise.mailin.poller import MailboxUnavailable, poll_mailbox
from franchise.tickets.models import Ticket, TicketEvent
from tests.mailin.conftest import PASSWORD, USER, Dovecot
from tests.psa.support import PsaSettings

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
def library(db: Database, integrated: bool) -> Database:
    """Starter runbooks, and a client whose contact shares the sender's domain."""
    with db.unit_of_work() as session:
        initialise(session)
        client = add_client(session, name="Harbor Dental Group")
        session.add(
            ClientContact(
                client_id=client.id, name="Maria Lopez", email="Maria.Lopez@HarborDental.com"
            )
        )
        other = add_client(session, name="Pine Street Law")
        session.add(ClientContact(client_id=other.id, name="Ellen", email="ellen@pinestlaw.com"))
    return db


def mail(
    subject: str,
    text: str,
    *,
    sender: str = "Ken Ito <ken.ito@harbordental.com>",
    attachments: tuple[tuple[str, str, bytes], ...] = (),
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@msp.example"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="harbordental.com")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


def deliver(dovecot: Dovecot, folder: str, *messages: EmailMessage) -> None:
    client = dovecot.imap()
    try:
        for message in messages:
            status, data = client.append(folder, None, None, message.as_bytes())
            assert status == "OK", data
    finally:
        client.logout()


def flags(dovecot: Dovecot, folder: str) -> list[str]:
    client = dovecot.imap()
    try:
        client.select(folder)
        _, data = client.fetch("1:*", "(FLAGS)")
        return [item.decode() for item in data if isinstance(item, bytes)]
    finally:
        client.logout()


def tickets(db: Database) -> list[Ticket]:
    with db.unit_of_work() as session:
        return list(session.scalars(select(Ticket).where(Ticket.source == "email")))


def test_new_mail_opens_a_ticket_with_its_runbook_client_and_attachment(
    library: Database, dovecot: Dovecot, folder: str
) -> None:
    message = mail(
        "VPN won't connect from home",
        "Since this morning FortiClient says 'credential or SSLVPN configuration is wrong'.\n",
        attachments=(("vpn-error.png", "image/png", PNG),),
    )
    deliver(dovecot, folder, message)
    report = poll_mailbox(library, dovecot.config(folder))
    assert (report.fetched, len(report.tickets), report.errors) == (1, 1, [])
    [ticket] = tickets(library)
    assert ticket.title == "VPN won't connect from home"
    assert ticket.external_id == message["Message-ID"]
    assert ticket.body.startswith("Since this morning FortiClient")
    assert (ticket.category, ticket.runbook_key) == ("vpn", "vpn-auth-failure")
    with library.unit_of_work() as session:
        client_name = session.get_one(Ticket, ticket.id).client_id
        [attachment] = session.scalars(select(TicketAttachment)).all()
        notes = session.scalars(
            select(TicketEvent.note).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "email"
            )
        ).all()
    assert client_name is not None
    assert (attachment.ticket_id, attachment.filename, attachment.content_type) == (
        ticket.id,
        "vpn-error.png",
        "image/png",
    )
    assert (attachment.size, attachment.data) == (len(PNG), PNG)
    assert notes == ["Opened from an e-mail by Ken Ito <ken.ito@harbordental.com>"]
    assert all("\\Seen" in f for f in flags(dovecot, folder))


def test_a_reply_carrying_the_ticket_reference_is_added_to_that_ticket(
    library: Database, dovecot: Dovecot, folder: str
) -> None:
    deliver(dovecot, folder, mail("Backup failed on SQL01", "Veeam says VSS writer timed out."))
    poll_mailbox(library, dovecot.config(folder))
    [ticket] = tickets(library)
    reply = mail(
        f"Re: [#{ticket.id}] We've received your request: Backup failed on SQL01",
        "It ran fine last night after the reboot.\n\n"
        "On Tue, 24 Nov 2026 at 09:15, MSP Support <support@msp.example> wrote:\n"
        "> We've received your request and a technician is on it.\n",
        attachments=(("job-log.txt", "text/plain", b"Job SQL01-Nightly: Success\n"),),
    )
    deliver(dovecot, folder, reply)
    report = poll_mailbox(library, dovecot.config(folder))
    assert (report.fetched, report.tickets, report.replies) == (1, [], [ticket.id])
    assert len(tickets(library)) == 1
    with library.unit_of_work() as session:
        [note] = session.scalars(
            select(TicketEvent.note).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "email-reply"
            )
        ).all()
        files = session.scalars(
            select(TicketAttachment.filename).where(TicketAttachment.ticket_id == ticket.id)
        ).all()
    assert note == "Ken Ito <ken.ito@harbordental.com>:\nIt ran fine last night after the reboot."
    assert files == ["job-log.txt"]


def test_a_reply_to_the_mail_that_opened_a_ticket_finds_it_without_a_reference(
    library: Database, dovecot: Dovecot, folder: str
) -> None:
    first = mail("Printer on 2nd floor offline", "It shows offline since 8am.")
    deliver(dovecot, folder, first)
    poll_mailbox(library, dovecot.config(folder))
    follow_up = mail(
        "Re: Printer on 2nd floor offline",
        "Now it prints but only blank pages.",
        headers={"In-Reply-To": first["Message-ID"], "References": first["Message-ID"]},
    )
    deliver(dovecot, folder, follow_up)
    report = poll_mailbox(library, dovecot.config(folder))
    [ticket] = tickets(library)
    assert report.replies == [ticket.id]


def test_nothing_is_imported_twice_even_when_someone_marks_the_mail_unread(
    library: Database, dovecot: Dovecot, folder: str
) -> None:
    message = mail("Outlook keeps asking for password", "Since the MFA change yesterday.")
    deliver(dovecot, folder, message)
    config = dovecot.config(folder)
    poll_mailbox(library, config)
    client = dovecot.imap()
    try:
        client.select(folder)
        client.store("1:*", "-FLAGS", "(\\Seen)")
    finally:
        client.logout()
    again = poll_mailbox(library, config)
    assert (again.fetched, again.tickets) == (0, [])
    # The same message copied in again (new UID, same Message-ID) is a duplicate.
    deliver(dovecot, folder, message)
    copy = poll_mailbox(library, config)
    assert (copy.fetched, copy.duplicates, copy.tickets) == (1, 1, [])
    assert len(tickets(library)) == 1
    with library.unit_of_work() as session:
        outcomes = session.scalars(select(MailMessage.outcome).order_by(MailMessage.uid)).all()
    assert outcomes == ["ticket", "duplicate"]


def test_an_attachment_over_the_cap_is_noted_on_the_ticket_not_stored(
    library: Database, dovecot: Dovecot, folder: str
) -> None:
    big = b"x" * 5000
    deliver(
        dovecot,
        folder,
        mail(
            "Scan of the error",
            "See attached.",
            attachments=(("scan.pdf", "application/pdf", big),),
        ),
    )
    report = poll_mailbox(library, dovecot.config(folder, max_attachment_bytes=1000))
    [ticket_id] = report.tickets
    with library.unit_of_work() as session:
        [attachment] = session.scalars(select(TicketAttachment)).all()
        [note] = session.scalars(
            select(TicketEvent.note).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "attachment-skipped"
            )
        ).all()
    assert (attachment.filename, attachment.size, attachment.data) == ("scan.pdf", 5000, None)
    assert "'scan.pdf' (5,000 bytes)" in note
    assert "over the 1,000-byte limit" in note


def test_auto_replies_open_no_ticket(library: Database, dovecot: Dovecot, folder: str) -> None:
    deliver(
        dovecot,
        folder,
        mail(
            "Out of office: back Monday",
            "I am away.",
            headers={"Auto-Submitted": "auto-replied"},
        ),
    )
    report = poll_mailbox(library, dovecot.config(folder))
    assert (report.ignored, report.tickets) == (1, [])
    assert tickets(library) == []


def test_a_wrong_password_is_a_clear_error_without_the_password(
    library: Database, dovecot: Dovecot, folder: str
) -> None:
    with pytest.raises(MailboxUnavailable) as info:
        poll_mailbox(library, dovecot.config(folder, password="not-the-password"))
    assert f"IMAP 127.0.0.1:{dovecot.port}" in info.value.message
    assert "not-the-password" not in info.value.message
    with pytest.raises(MailboxUnavailable, match="open folder 'No-Such-Folder'"):
        poll_mailbox(library, dovecot.config("No-Such-Folder"))


def test_cli_poll_once(library: Database, dovecot: Dovecot, folder: str, tmp_path: Path) -> None:
    deliver(dovecot, folder, mail("Disk space low on FS01", "C: has 2 GB left."))
    settings = PsaSettings(
        home=tmp_path,
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_user=USER,
        imap_password=PASSWORD,
        imap_folder=folder,
        imap_tls="none",
    )
    app = typer.Typer(cls=FranchiseGroup)
    app.add_typer(mail_cmds.app, name="mail")
    context = CliContext(_settings=settings, db=library, migrated=True)
    result = CliRunner().invoke(app, ["mail", "poll", "--once", "--json"], obj=context)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["fetched"], len(data["tickets"])) == (1, 1)
    plain = CliRunner().invoke(app, ["mail", "poll", "--once"], obj=context)
    assert re.search(r"0 message\(s\); new tickets: none", plain.stdout)
