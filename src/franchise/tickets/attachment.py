"""Which runbook a ticket follows: attached on opening when the suggestion is sure enough,
otherwise only offered; attached when a technician runs one.

A technician's own choices (attach, replace, detach, a category by hand) also bring the
escalation answer up to date, so they live in flows.runbook_choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.runbooks import service as runbooks
from franchise.suggest.index import Match, Suggestion
from franchise.suggest.service import match as suggest_match
from franchise.tickets.models import Ticket
from franchise.tickets.service import change_ticket, create_ticket


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


def create_with_runbook(
    session: Session,
    *,
    title: str,
    body: str = "",
    client: str | int | None = None,
    category: str | None = None,
    priority: str = "normal",
    source: str = "web",
    external_id: str | None = None,
    actor: Staff | None = None,
    created_at: datetime | None = None,
    requester: str | int | None = None,
) -> tuple[Ticket, list[Suggestion]]:
    """Store a ticket; its best runbook is attached only when the suggestion is confident
    enough (suggest.calibration), otherwise kept on the ticket as an offer. The caller
    brings the escalation answer up to date (flows.opening.open_ticket does)."""
    match = suggest_match(session, f"{title}\n{body}")
    choice = opening_choice(match, category)
    ticket = create_ticket(
        session,
        title=title,
        body=body,
        client=client,
        priority=priority,
        source=source,
        external_id=external_id,
        actor=actor,
        created_at=created_at,
        requester=requester,
        category=choice.category,
        category_by_hand=choice.category_by_hand,
        runbook_key=choice.runbook_key,
        runbook_source=choice.runbook_source,
        suggested_runbook_key=choice.suggested_runbook_key,
        suggestion_confidence=choice.suggestion_confidence,
    )
    return ticket, match.suggestions


def attach_for_run(session: Session, ticket: Ticket, key: str, *, actor: Staff | None) -> None:
    """Running a runbook on a ticket attaches it: what a technician runs is what they chose."""
    if ticket.runbook_key == key and ticket.runbook_source == "technician":
        return
    changes: dict[str, Any] = {"runbook_key": key}
    if not ticket.category_by_hand:
        changes["category"] = runbooks.get_runbook(session, key).category
    change_ticket(session, ticket, actor=actor, note=f"ran runbook {key}", **changes)
    ticket.runbook_source = "technician"
