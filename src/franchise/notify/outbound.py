"""The owner-notification channel of the outbox: Apprise, after the ask is committed."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.contacts.models import OwnerContact
from franchise.notify.service import notify_owner
from franchise.outbox.models import OutboxItem
from franchise.outbox.service import Outcome, SendFailed
from franchise.settings import Settings
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note
from franchise.wording import plural

KIND = "owner_notify"


class NotifyChannel:
    def send(self, payload: dict[str, Any], settings: Settings) -> str | None:
        delivery = notify_owner(
            settings,
            title=payload["title"],
            body=payload["body"],
            emergency=bool(payload.get("emergency")),
        )
        if not delivery.sent:
            # With no URL configured there is nobody to retry for.
            raise SendFailed(delivery.error or "not sent", permanent=delivery.targets == 0)
        return plural(delivery.targets, "notification service")

    def record(self, session: Session, item: OutboxItem, outcome: Outcome) -> None:
        if outcome.state == "delivered":
            summary = f"Owner notified ({outcome.detail})."
        else:
            summary = f"Owner notification {outcome.describe()}"
        contact = session.get(OwnerContact, item.payload.get("contact_id"))
        if contact is not None:
            contact.answer = f"{contact.answer or ''}\n{summary}".lstrip("\n")
        ticket = session.get(Ticket, item.ticket_id) if item.ticket_id is not None else None
        if ticket is None:
            return
        actor_id = item.payload.get("actor_id")
        actor = session.get(Staff, actor_id) if actor_id else None
        kind = "owner_notified" if outcome.state == "delivered" else "owner_notify_failed"
        add_note(session, ticket, actor=actor, kind=kind, note=summary)


CHANNEL = NotifyChannel()
