"""The outbox channel for notifications to staff: e-mail, a Teams or a Slack webhook.

The payload holds the webhook URL sealed (the outbox table is in every backup) and is
opened only here, at sending time, with the sending process's key.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from franchise.errors import InvalidInput
from franchise.messages.smtp import DeliveryError, SmtpConfig, build_email, deliver
from franchise.orgsettings.sealing import Unsealable, unseal
from franchise.outbox.models import OutboxItem
from franchise.outbox.service import Outcome, SendFailed
from franchise.settings import Settings
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note

KIND = "person_notify"
TIMEOUT = 10.0  # seconds
VIA = {"email": "e-mail", "teams": "Teams", "slack": "Slack"}


class PersonChannel:
    def send(self, payload: dict[str, Any], settings: Settings) -> str | None:
        via = payload["via"]
        if via == "email":
            try:
                config = SmtpConfig.from_settings(settings)
                email = build_email(
                    config, to=payload["to"], subject=payload["subject"], body=payload["body"]
                )
                deliver(config, email)
            except InvalidInput as exc:
                raise SendFailed(exc.message) from exc
            except DeliveryError as exc:
                raise SendFailed(str(exc), permanent=exc.permanent) from exc
            return None
        try:
            url = unseal(settings, payload["url_sealed"])
        except Unsealable as exc:
            raise SendFailed(f"the {VIA[via]} URL {exc}; enter it again", permanent=True) from exc
        import httpx  # here, not at start-up: about 5 MB a server that never calls out does without

        try:
            response = httpx.post(url, json=payload["message"], timeout=TIMEOUT)
        except httpx.HTTPError as exc:
            # Never the URL in the record: it is the credential.
            raise SendFailed(f"{VIA[via]} webhook unreachable ({type(exc).__name__})") from exc
        if response.status_code >= 300:
            # 4xx other than 429: the webhook was removed or the body refused; retrying
            # cannot help.
            permanent = 400 <= response.status_code < 500 and response.status_code != 429
            raise SendFailed(
                f"{VIA[via]} webhook answered HTTP {response.status_code}", permanent=permanent
            )
        return None

    def record(self, session: Session, item: OutboxItem, outcome: Outcome) -> None:
        ticket = session.get(Ticket, item.ticket_id) if item.ticket_id is not None else None
        if ticket is None:
            return
        payload = item.payload
        who = f"{payload.get('name', 'someone')} by {VIA.get(payload.get('via', ''), '?')}"
        if outcome.state == "delivered":
            kind, note = "person_notified", f"notified {who}: {payload.get('what', '')}"
        else:
            kind, note = "person_notify_failed", f"notifying {who} {outcome.describe()}"
        add_note(session, ticket, actor=None, kind=kind, note=note)


CHANNEL = PersonChannel()
