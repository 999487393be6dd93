"""The e-mail channel of the outbox: a client message, delivered by SMTP after the commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.errors import InvalidInput
from franchise.messages.models import TicketMessage
from franchise.messages.smtp import DeliveryError, SmtpConfig, build_email, deliver
from franchise.outbox.models import OutboxItem
from franchise.outbox.service import Outcome, SendFailed
from franchise.settings import Settings
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note

KIND = "email"
# TicketMessage.status for each outcome; "queued" until the first attempt.
STATUS = {"delivered": "sent", "retrying": "retrying", "failed": "failed"}


def payload_for(message: TicketMessage) -> dict[str, Any]:
    return {
        "message_id": message.id,
        "to": message.to_address,
        "cc": message.cc_address,
        "subject": message.subject,
        "body": message.body,
    }


class EmailChannel:
    def send(self, payload: dict[str, Any], settings: Settings) -> str | None:
        try:
            # Read at delivery: the SMTP settings may have been corrected since the queueing.
            config = SmtpConfig.from_settings(settings)
            email = build_email(
                config,
                to=payload["to"],
                cc=payload.get("cc"),
                subject=payload["subject"],
                body=payload["body"],
            )
            deliver(config, email)
        except InvalidInput as exc:
            raise SendFailed(exc.message) from exc
        except DeliveryError as exc:
            raise SendFailed(str(exc), permanent=exc.permanent) from exc
        return None

    def record(self, session: Session, item: OutboxItem, outcome: Outcome) -> None:
        message = session.get(TicketMessage, item.payload["message_id"])
        ticket = session.get(Ticket, item.ticket_id) if item.ticket_id is not None else None
        if message is None or ticket is None:
            return  # the ticket was deleted meanwhile; the row says what happened
        message.status, message.error = STATUS[outcome.state], outcome.error
        if outcome.state == "delivered":
            message.sent_at = item.delivered_at
            copy = f" (copy to {message.cc_address})" if message.cc_address else ""
            edited = " [edited before sending]" if message.edited else ""
            kind = "message"
            note = (
                f"e-mailed {message.to_address}{copy}: {message.subject}{edited}\n\n{message.body}"
            )
        else:
            kind = "message_retrying" if outcome.state == "retrying" else "message_failed"
            note = f"e-mail to {message.to_address} {outcome.describe()}: {message.subject}"
        author = session.get(Staff, message.author_id) if message.author_id else None
        add_note(session, ticket, actor=author, kind=kind, note=note)


CHANNEL = EmailChannel()
