"""A ticket is escalated: the map decides whether it may go, then someone takes it.

The escalation map (escalation.service) says yes or no; this hands the ticket over to the
person on duty at the new level (or the least-loaded person there), so an escalation always
reaches a named person instead of a level nobody watches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.duty.service import Holder, holder_for
from franchise.errors import InvalidInput
from franchise.escalation.evaluate import EscalationDecision
from franchise.escalation.service import escalate_ticket
from franchise.people import notices
from franchise.psa.connectors import outbound as psa_push
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note, change_ticket

MAX_HANDOVER = 5000


@dataclass(frozen=True)
class Handover:
    decision: EscalationDecision
    holder: Holder | None

    def to_dict(self) -> dict[str, object]:
        return {
            "decision": self.decision.to_dict(),
            "holder": self.holder.to_dict() if self.holder else None,
        }


def escalate(
    session: Session,
    ticket: Ticket,
    *,
    to: str,
    by: Staff,
    override_reason: str | None = None,
    edge_case: int | None = None,
    now: datetime | None = None,
    note: str | None = None,
    require_note: bool = False,
) -> Handover:
    """Escalate, hand the ticket to whoever is on duty at that level, and leave them the
    escalating technician's handover note (what was found and tried, what the escalate step
    asks to attach) on the ticket and on the PSA ticket. With `require_note` (the web app's
    forms) a note must be written, unless the escalation is an emergency (it can follow) or
    follows a runbook's edge case (whose words are recorded).
    Call it inside a savepoint: a refusal comes after the escalation was worked out."""
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_HANDOVER:
        raise InvalidInput(f"the handover note is over {MAX_HANDOVER} characters; shorten it")
    decision = escalate_ticket(
        session,
        ticket,
        to=to,
        by=by,
        override_reason=override_reason,
        edge_case=edge_case,
        now=now,
    )
    # An edge case's escalation is written with the case's own words (escalate_ticket).
    if require_note and note is None and not decision.emergency and edge_case is None:
        raise InvalidInput(
            f"write a handover note for {to}: what you found and tried, and what the "
            "escalate step asks you to attach"
        )
    if decision.emergency and ticket.priority != "critical":
        change_ticket(
            session,
            ticket,
            actor=by,
            at=now,
            note=f"emergency escalation to {to} (rule {decision.rule})",
            priority="critical",
        )
    if note is not None:
        add_note(session, ticket, actor=by, kind="handover", note=f"Handover to {to}: {note}")
    holder = holder_for(session, to, at=now)
    _tell_psa(session, ticket, to, by, override_reason, note)
    if holder is None:
        add_note(
            session,
            ticket,
            actor=by,
            kind="handover",
            note=f"nobody is active at {to} to take it: set the duty roster "
            "(Settings > Duty roster, or franchise duty set)",
        )
    elif holder.staff.id != by.id:
        change_ticket(
            session,
            ticket,
            actor=by,
            at=now,
            note=f"handed to {holder.staff.name} ({holder.why} at {to})",
            assignee_id=holder.staff.id,
        )
        notices.escalated(session, ticket, holder.staff, by, to, note=note)
    return Handover(decision, holder)


def _tell_psa(
    session: Session,
    ticket: Ticket,
    to: str,
    by: Staff,
    override_reason: str | None,
    note: str | None,
) -> None:
    """A private note on the PSA ticket: who escalated, to which level, why if forced, and
    the handover note."""
    text = f"Escalated to {to} by {by.name} in Franchise."
    if override_reason:
        text += f"\nOverride: {override_reason}"
    if note:
        text += f"\nHandover: {note}"
    psa_push.note(session, ticket, text)
