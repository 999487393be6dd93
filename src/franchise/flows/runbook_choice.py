"""A technician chooses a ticket's runbook: attaches, replaces or detaches it, or sets the
category by hand, always with a reason.

The category follows the attached runbook unless a person set it. Every change goes to the
ticket's history with its reason, and the escalation answer is brought up to date: the
runbook-first gate holds a ticket only behind a runbook that is really attached.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.errors import InvalidInput
from franchise.escalation.service import refresh_escalation
from franchise.runbooks import service as runbooks
from franchise.runbooks.definition import CATEGORIES
from franchise.suggest.service import match as suggest_match
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note, change_ticket

MAX_REASON = 5000


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


def change_category(
    session: Session,
    ticket: Ticket,
    category: str | None,
    *,
    actor: Staff | None,
    reason: str,
) -> Ticket:
    """Set the category by hand (None: no category; it follows the runbook again), with a
    reason. A runbook a technician chose stays; one that came with the old category or the
    opening suggestion gives way to the new category's best-ranked runbook (none if it has
    none), so the runbook-first gate judges the ticket by what it now is."""
    reason = _reason(reason)
    if category is not None and category not in CATEGORIES:
        raise InvalidInput(f"unknown category '{category}' (use {', '.join(CATEGORIES)})")
    if category == ticket.category and category is not None and ticket.category_by_hand:
        raise InvalidInput(f"ticket #{ticket.id} is already in category '{category}'")
    changes: dict[str, Any] = {"category": category}
    follows = ticket.runbook_source in (None, "suggestion", "category")
    source = ticket.runbook_source
    if category is not None and follows and ticket.runbook_key is not None:
        current = runbooks.get_runbook(session, ticket.runbook_key)
        if current.category != category:
            changes["runbook_key"] = _best_of(session, ticket, category)
            source = "category" if changes["runbook_key"] else None
    elif category is not None and follows and ticket.runbook_key is None:
        changes["runbook_key"] = _best_of(session, ticket, category)
        source = "category" if changes["runbook_key"] else ticket.runbook_source
    if not change_ticket(session, ticket, actor=actor, note=reason, **changes):
        if category is None or ticket.category_by_hand:
            raise InvalidInput(f"ticket #{ticket.id} already has that category")
        # The category the runbook gave is now kept by hand: still worth a line in history.
        add_note(session, ticket, actor=actor, kind="category_kept", note=f"{category}: {reason}")
    ticket.category_by_hand = category is not None
    ticket.runbook_source = source
    refresh_escalation(session, ticket, actor=actor)
    return ticket


def _best_of(session: Session, ticket: Ticket, category: str) -> str | None:
    """The category's runbook that best matches the ticket's text, if it has any."""
    found = suggest_match(session, f"{ticket.title}\n{ticket.body}", limit=1000).suggestions
    return next((s.key for s in found if s.category == category), None)


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise InvalidInput("say why (a reason for the ticket's history)")
    if len(text) > MAX_REASON:
        raise InvalidInput(f"the reason is longer than {MAX_REASON} characters")
    return text
