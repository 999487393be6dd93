"""Turning an e-mail into a ticket, or into a reply on the ticket it refers to."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.clients.contacts import contact_by_email
from franchise.clients.models import ClientContact
from franchise.escalation.service import refresh_escalation
from franchise.mailin.models import MailMessage, TicketAttachment
from franchise.mailin.parse import MAX_TITLE, Attachment, IncomingMail, strip_quoted
from franchise.tickets.attachment import create_with_runbook
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note
from franchise.wording import plural

SOURCE = "email"
REPLY_KIND = "email-reply"
NOTE_KIND = "email"


@dataclass(frozen=True)
class Handled:
    outcome: str  # ticket | reply | duplicate | ignored
    ticket_id: int | None
    detail: str


def handle_mail(session: Session, mail: IncomingMail, *, max_attachment_bytes: int) -> Handled:
    """Open a ticket for a new mail, or add a reply to the ticket it refers to."""
    if _already_handled(session, mail):
        return Handled("duplicate", None, f"{mail.message_id} was handled before")
    ticket = _referenced_ticket(session, mail)
    if ticket is not None:
        text = strip_quoted(mail.text) or "(no text)"
        # Anyone can put "[#123]" in a subject; say so when the sender is not the client's.
        stranger = ticket.client_id is not None and (
            find_client_id(session, mail.sender) != ticket.client_id
        )
        warning = " (not a contact of this ticket's client)" if stranger else ""
        note = f"{_who(mail)}{warning}:\n{text}"
        add_note(session, ticket, actor=None, kind=REPLY_KIND, note=note)
        skipped = _keep_attachments(session, ticket, mail, max_attachment_bytes)
        return Handled("reply", ticket.id, f"reply added to #{ticket.id}{skipped}")
    if mail.automatic:
        return Handled("ignored", None, "automatic mail (auto-reply, bounce or list); no ticket")
    title = mail.subject or "(no subject)"
    body = mail.text
    if len(title) > MAX_TITLE:
        body = f"Subject: {title}\n\n{body}"
        title = title[: MAX_TITLE - 1] + "…"
    client_id = find_client_id(session, mail.sender)
    # The sender is the requester when they are one of the client's contacts.
    requester = contact_by_email(session, client_id, mail.sender) if client_id else None
    ticket, _ = create_with_runbook(
        session,
        title=title,
        body=body,
        client=client_id,
        requester=requester.id if requester else None,
        source=SOURCE,
        external_id=mail.external_id,
    )
    refresh_escalation(session, ticket)
    add_note(
        session, ticket, actor=None, kind=NOTE_KIND, note=f"Opened from an e-mail by {_who(mail)}"
    )
    skipped = _keep_attachments(session, ticket, mail, max_attachment_bytes)
    return Handled("ticket", ticket.id, f"ticket #{ticket.id} opened{skipped}")


def _who(mail: IncomingMail) -> str:
    return f"{mail.sender_name} <{mail.sender}>" if mail.sender_name else f"<{mail.sender}>"


def _already_handled(session: Session, mail: IncomingMail) -> bool:
    seen = session.scalar(
        select(MailMessage.id)
        .where(
            MailMessage.message_id == mail.message_id,
            MailMessage.outcome.in_(("ticket", "reply")),
        )
        .limit(1)
    )
    if seen is not None:
        return True
    opened = session.scalar(
        select(Ticket.id).where(Ticket.source == SOURCE, Ticket.external_id == mail.external_id)
    )
    return opened is not None


def _referenced_ticket(session: Session, mail: IncomingMail) -> Ticket | None:
    """The ticket named by "[#123]" in the subject, else the one the answered mail opened."""
    if mail.ticket_ref is not None:
        ticket = session.get(Ticket, mail.ticket_ref)
        if ticket is not None:
            return ticket
    for answered in mail.answers:
        ticket_id = session.scalar(
            select(MailMessage.ticket_id)
            .where(MailMessage.message_id == answered, MailMessage.ticket_id.is_not(None))
            .limit(1)
        )
        if ticket_id is not None:
            return session.get(Ticket, ticket_id)
    return None


def find_client_id(session: Session, sender: str) -> int | None:
    """The client whose contact has this address; else the one client whose contacts share
    the sender's domain (none when several do, e.g. gmail.com)."""
    if "@" not in sender:
        return None
    exact = session.scalars(
        select(ClientContact.client_id).where(func.lower(ClientContact.email) == sender).distinct()
    ).all()
    if len(exact) == 1:
        return exact[0]
    domain = sender.rsplit("@", 1)[1]
    suffix = "@" + domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    by_domain = session.scalars(
        select(ClientContact.client_id)
        .where(func.lower(ClientContact.email).like("%" + suffix, escape="\\"))
        .distinct()
    ).all()
    return by_domain[0] if len(by_domain) == 1 else None


def _keep_attachments(session: Session, ticket: Ticket, mail: IncomingMail, max_bytes: int) -> str:
    """Store each attachment; one over the cap is listed with a note instead."""
    skipped = [a for a in mail.attachments if a.size > max_bytes]
    for attachment in mail.attachments:
        session.add(_attachment_row(ticket, mail, attachment, attachment.size <= max_bytes))
    for attachment in skipped:
        add_note(
            session,
            ticket,
            actor=None,
            kind="attachment-skipped",
            note=(
                f"Attachment '{attachment.filename}' ({attachment.size:,} bytes) from "
                f"{mail.sender} was not stored: it is over the {max_bytes:,}-byte limit "
                "(FRANCHISE_IMAP_MAX_ATTACHMENT_BYTES). It is still in the mailbox."
            ),
        )
    return (
        f"; {plural(len(skipped), 'attachment')} over the size limit not stored" if skipped else ""
    )


def _attachment_row(
    ticket: Ticket, mail: IncomingMail, attachment: Attachment, keep: bool
) -> TicketAttachment:
    return TicketAttachment(
        ticket_id=ticket.id,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        data=attachment.data if keep else None,
        source=SOURCE,
        message_id=mail.message_id[:998],
    )
