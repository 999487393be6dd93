"""Which runbook a ticket follows: attached on opening when the suggestion is sure enough,
otherwise only offered; attached, replaced or detached by a technician with a reason.

The category follows the attached runbook unless a person set it. Every change goes to the
ticket's history with its reason, and the escalation answer is brought up to date: the
runbook-first gate holds a ticket only behind a runbook that is really attached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.errors import InvalidInput
from franchise.escalation.service import refresh_escalation
from franchise.runbooks import service as runbooks
from franchise.suggest.index import Match
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note, change_ticket

MAX_REASON = 5000


@dataclass(frozen=True)
class OpeningChoice:
    category: str | None
    category_by_hand: bool
    runbook_key: str | None
    runbook_source: str | None
    suggested_runbook_key: str | None
    suggestion_confidence: float | None


def opening_choice(match: Match, category: str | None) -> OpeningChoice:
    """The runbook fields of a new ticket. Pure.

    Without a category, the best runbook is attached (and its category taken) only when the
    confidence reaches the threshold; below it the ticket stays unclassified and the runbook
    is only offered. A category given by hand picks its best-ranked runbook, if any.
    """
    best = match.best
    suggested = best.key if best is not None else None
    confidence = round(match.confidence, 4) if best is not None else None
    if category is not None:
        key = next((s.key for s in match.suggestions if s.category == category), None)
        source = "category" if key is not None else None
        return OpeningChoice(category, True, key, source, suggested, confidence)
    if best is not None and match.fits:
        return OpeningChoice(best.category, False, best.key, "suggestion", suggested, confidence)
    return OpeningChoice(None, False, None, None, suggested, confidence)


def attach_runbook(
    session: Session,
    ticket: Ticket,
    key: str,
    *,
    actor: Staff | None,
    reason: str,
) -> Ticket:
    """Attach a runbook (replacing any other) as a technician's choice."""
    reason = _reason(reason)
    row = runbooks.get_runbook(session, key)
    if row.status == "archived":
        raise InvalidInput(f"runbook '{row.key}' is archived; attach a current one")
    if ticket.runbook_key == row.key and ticket.runbook_source == "technician":
        raise InvalidInput(f"runbook '{row.key}' is already attached to ticket #{ticket.id}")
    changes: dict[str, Any] = {"runbook_key": row.key}
    if not ticket.category_by_hand:
        changes["category"] = row.category
    change_ticket(session, ticket, actor=actor, note=reason, **changes)
    ticket.runbook_source = "technician"
    refresh_escalation(session, ticket, actor=actor)
    return ticket


def attach_for_run(session: Session, ticket: Ticket, key: str, *, actor: Staff | None) -> None:
    """Running a runbook on a ticket attaches it: what a technician runs is what they chose."""
    if ticket.runbook_key == key and ticket.runbook_source == "technician":
        return
    changes: dict[str, Any] = {"runbook_key": key}
    if not ticket.category_by_hand:
        changes["category"] = runbooks.get_runbook(session, key).category
    change_ticket(session, ticket, actor=actor, note=f"ran runbook {key}", **changes)
    ticket.runbook_source = "technician"


def detach_runbook(session: Session, ticket: Ticket, *, actor: Staff | None, reason: str) -> Ticket:
    """No runbook covers this ticket: the escalation map's default decides from now on."""
    reason = _reason(reason)
    if ticket.runbook_source == "detached" or (
        ticket.runbook_key is None and not ticket.category_by_hand
    ):
        raise InvalidInput(f"ticket #{ticket.id} has no runbook attached")
    changes: dict[str, Any] = {"runbook_key": None}
    if not ticket.category_by_hand:
        changes["category"] = None
    if not change_ticket(session, ticket, actor=actor, note=reason, **changes):
        # Only the hand-set category's runbook covered it: nothing else changes, but the
        # history still says who ruled that runbook out, and why.
        category = ticket.category or ""
        add_note(
            session, ticket, actor=actor, kind="runbook_detached", note=f"{category}: {reason}"
        )
    ticket.runbook_source = "detached"
    refresh_escalation(session, ticket, actor=actor)
    return ticket


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise InvalidInput("say why (a reason for the ticket's history)")
    if len(text) > MAX_REASON:
        raise InvalidInput(f"the reason is longer than {MAX_REASON} characters")
    return text
