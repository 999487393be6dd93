"""What Franchise tells the PSA: the escalation answer, notes and the resolution.

Each push is an outbox item (kind "psa_push") written in the transaction of the event it
reports and delivered after the commit, retried with backoff (a 429's Retry-After is
honoured); an outage only delays them. Pushes are made only for tickets that came from
the PSA (an external id), and never for a change the sync itself made (the INBOUND mark),
so nothing goes back and forth.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from franchise.db import utcnow
from franchise.errors import InvalidInput
from franchise.outbox import service as outbox
from franchise.outbox.models import OutboxItem
from franchise.outbox.service import Outcome, SendFailed
from franchise.psa.connectors.base import INBOUND, ConnectionConfig, PsaError, escalation_text
from franchise.psa.connectors.store import connected_vendor, connector_for, load_connection
from franchise.psa.models import ImportState
from franchise.settings import Settings
from franchise.tickets.models import Ticket, TicketEvent

KIND = "psa_push"
ESCALATION_FIELD = "escalation_allowed"  # escalation/service.py
ESCALATE_TAG = "escalate:"
# Tickets from the PSA (import or sync) carry this source (psa/importer.py).
SOURCE = "import"
DONE_FIELD = "done_checked"  # tickets/lifecycle.py
MAX_NOTE = 4000


def _target(session: Session, ticket: Ticket) -> str | None:
    """The vendor to push to, or None (not a PSA ticket, or no connection)."""
    if ticket.source != SOURCE or not ticket.external_id:
        return None
    with session.no_autoflush:  # the caller may be half-way through changing the ticket
        return connected_vendor(session)


def _enqueue(session: Session, ticket: Ticket, payload: dict[str, Any]) -> None:
    from franchise.people.notices import settings_of

    payload = {**payload, "number": ticket.external_id}
    outbox.enqueue(session, KIND, payload, ticket_id=ticket.id, settings=settings_of(session))


def ticket_changed(
    session: Session, ticket: Ticket, fields: Iterable[str], note: str | None
) -> None:
    """From tickets.service.change_ticket: the escalation answer, the level, a resolution.

    The escalation answer is ours even when the sync's import recomputed it, so it is pushed
    then too (unless unchanged); a resolution that came from the PSA is not sent back.
    """
    changed = set(fields)
    if not changed.intersection({"custom_fields", "tags", "level", "status"}):
        return
    if _target(session, ticket) is None:
        return
    if changed.intersection({"custom_fields", "tags", "level"}):
        payload = {"op": "fields", **escalation_answer(ticket)}
        if payload["allowed"] is not None and not _same_as_last_fields(session, ticket, payload):
            _supersede_waiting_fields(session, ticket)
            _enqueue(session, ticket, payload)
    inbound = bool(session.info.get(INBOUND))
    if "status" in changed and ticket.status == "resolved" and not inbound:
        _enqueue(session, ticket, {"op": "note", "text": resolution(ticket, note), "resolve": True})


def escalation_answer(ticket: Ticket) -> dict[str, Any]:
    """What the escalation check stored on the ticket (escalation/service.py)."""
    raw = str((ticket.custom_fields or {}).get(ESCALATION_FIELD) or "").lower()
    allowed = True if raw == "yes" else False if raw == "no" else None
    to = next(
        (t[len(ESCALATE_TAG) :] for t in ticket.tags or [] if t.lower().startswith(ESCALATE_TAG)),
        None,
    )
    return {"allowed": allowed, "to": to if allowed else None, "level": ticket.level}


def resolution(ticket: Ticket, note: str | None) -> str:
    """The resolution as the PSA shows it: the runbook followed and the done list ticked."""
    lines = ["Resolved in Franchise."]
    if ticket.runbook_key:
        lines.append(f"Runbook: {ticket.runbook_key}")
    done = [str(x) for x in (ticket.custom_fields or {}).get(DONE_FIELD, [])]
    if done:
        lines.append("Done: " + "; ".join(done))
    if note:
        lines.append(note)
    return "\n".join(lines)[:MAX_NOTE]


def note(session: Session, ticket: Ticket, text: str) -> None:
    """A private note on the PSA ticket (a runbook answer, an approval, an escalation)."""
    if session.info.get(INBOUND) or _target(session, ticket) is None:
        return
    _enqueue(session, ticket, {"op": "note", "text": text[:MAX_NOTE], "resolve": False})


def _same_as_last_fields(session: Session, ticket: Ticket, payload: dict[str, Any]) -> bool:
    """An escalation check that leaves the answer as it was pushes nothing."""
    with session.no_autoflush:  # the caller may be half-way through changing the ticket
        items = outbox.list_items(session, ticket_id=ticket.id, limit=50)
    for item in items:
        # A push that failed for good (say, before the field was configured) proves nothing.
        if item.kind == KIND and item.payload.get("op") == "fields" and item.state != "failed":
            keys = ("allowed", "to", "level")
            return all(item.payload.get(k) == payload[k] for k in keys)
    return False


def _supersede_waiting_fields(session: Session, ticket: Ticket) -> None:
    """An older escalation answer still waiting (say, for a retry after a 429) must never
    reach the PSA after the newer one: it is dropped, not retried."""
    now = utcnow()
    with session.no_autoflush:
        waiting = outbox.list_items(session, state="pending", ticket_id=ticket.id, limit=50)
    for item in waiting:
        claimed = item.claimed_until is not None and item.claimed_until > now
        if item.kind == KIND and item.payload.get("op") == "fields" and not claimed:
            item.state, item.next_attempt_at = "failed", None
            item.last_error = "superseded by a newer escalation answer"


class PsaChannel:
    """The outbox channel: one PSA call per item, with the stored connection."""

    def load(self, session: Session, settings: Settings) -> ConnectionConfig | None:
        try:
            return load_connection(session, settings)
        except InvalidInput:
            return None

    def send(self, payload: dict[str, Any], settings: Settings) -> str | None:
        raise SendFailed("the PSA connection was not loaded", permanent=True)

    def send_with(
        self, payload: dict[str, Any], settings: Settings, config: ConnectionConfig | None
    ) -> str | None:
        if config is None:
            raise SendFailed(
                "no PSA is connected (or its credentials cannot be opened)", permanent=True
            )
        connector = connector_for(config)
        number = str(payload["number"])
        try:
            if payload["op"] == "fields":
                text = escalation_text(payload["allowed"], payload.get("to"), payload["level"])
                connector.push_fields(number, text)
                return f"{config.vendor} ticket {number}: escalation field set"
            connector.add_note(number, str(payload["text"]), resolve=bool(payload.get("resolve")))
        except PsaError as exc:
            raise SendFailed(
                exc.reason, permanent=exc.permanent, retry_after=exc.retry_after
            ) from None
        finally:
            connector.close()
        return f"{config.vendor} ticket {number}: note added"

    def record(self, session: Session, item: OutboxItem, outcome: Outcome) -> None:
        if item.ticket_id is None:
            return
        what = "escalation field" if item.payload.get("op") == "fields" else "note"
        if outcome.state == "delivered":
            text = f"PSA {what} sent ({outcome.detail})"
            if item.payload.get("resolve"):
                self._remember_resolved(session, item.ticket_id)
        else:
            text = f"PSA {what} {outcome.describe()}"
        # Written directly: telling the PSA is not a change to the ticket (updated_at stays).
        kind = "psa_push" if outcome.state == "delivered" else "psa_push_failed"
        session.add(TicketEvent(ticket_id=item.ticket_id, kind=kind, note=text))

    def _remember_resolved(self, session: Session, ticket_id: int) -> None:
        # What we pushed is what the PSA now says: the next pull does not import it back
        # as a change made in the PSA.
        state = session.get(ImportState, ticket_id)
        if state is not None and state.values.get("status") != "resolved":
            state.values = {**state.values, "status": "resolved"}


CHANNEL = PsaChannel()
