"""Stale runbooks: untouched for 90 days while their category keeps escalating.

Definitions:

- *Untouched*: the runbook's `updated_at` (set when it is created and on every revision)
  is more than 90 days before now.
- *Escalated ticket*: a ticket whose history has a level change (L1 -> L2, L2 -> owner ...)
  in the last 28 days, or a ticket created in the last 28 days that is already at L2 or
  owner, or in status `escalated` (imported that way, with no history of the change).
  Each ticket counts once per category.
- A non-archived runbook is *stale* when it is untouched and its category has at least 3
  escalated tickets in the last 28 days, or when its review date (`review_by`, on the
  runbook or on one of its steps) is today or past: the facts it rests on (a vendor's
  end-of-support date, a firmware's behaviour) must be checked again.

Lessons asking for a new runbook play no part here: there is no runbook to go stale, and a
category no runbook covers is what the audit's "write next" names. Their own weekly deadline
(lessons.deadline) makes them overdue when nobody writes the runbook or rejects the request.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, union
from sqlalchemy.orm import Session

from franchise.db import utcnow
from franchise.runbooks import service as runbooks
from franchise.runbooks.definition import Runbook as RunbookDef
from franchise.runbooks.models import Runbook
from franchise.tickets.models import Ticket, TicketEvent

UNTOUCHED_DAYS = 90
ESCALATION_DAYS = 28
MIN_ESCALATIONS = 3


def escalations_by_category(session: Session, since: datetime, until: datetime) -> dict[str, int]:
    """Distinct escalated tickets per category between `since` and `until` (one query)."""
    by_history = (
        select(Ticket.id, Ticket.category)
        .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .where(TicketEvent.field == "level", TicketEvent.at >= since, TicketEvent.at <= until)
    )
    born_escalated = select(Ticket.id, Ticket.category).where(
        Ticket.created_at >= since,
        Ticket.created_at <= until,
        or_(Ticket.level.in_(("L2", "owner")), Ticket.status == "escalated"),
    )
    escalated = union(by_history, born_escalated).subquery()
    rows = session.execute(
        select(escalated.c.category, func.count(escalated.c.id))
        .where(escalated.c.category.is_not(None))
        .group_by(escalated.c.category)
    )
    return {str(category): int(n) for category, n in rows}


def review_due(parsed: RunbookDef, today: date) -> list[str]:
    """The review dates of a runbook that are due: 'runbook 2027-01-31', 'step x 2026-12-01'."""
    due = []
    if parsed.review_by is not None and parsed.review_by <= today:
        due.append(f"runbook {parsed.review_by.isoformat()}")
    for step in parsed.steps.values():
        if step.review_by is not None and step.review_by <= today and step.used_from is None:
            due.append(f"step {step.id} {step.review_by.isoformat()}")
    return due


def stale_runbooks(session: Session, now: datetime | None = None) -> list[dict[str, Any]]:
    """Runbooks untouched for 90 days whose category had 3+ escalations in 28 days, and
    runbooks past a review date; `reasons` says which."""
    now = now or utcnow()
    cutoff = now - timedelta(days=UNTOUCHED_DAYS)
    rows = list(
        session.scalars(
            select(Runbook)
            .where(Runbook.status != "archived")
            .order_by(Runbook.category, Runbook.key)
        )
    )
    if not rows:
        return []
    counts = escalations_by_category(session, now - timedelta(days=ESCALATION_DAYS), now)
    result = []
    for r in rows:
        reasons = []
        escalations = counts.get(r.category, 0)
        if r.updated_at < cutoff and escalations >= MIN_ESCALATIONS:
            reasons.append(
                f"untouched for {(now - r.updated_at).days} days while its category escalated "
                f"{escalations} times in {ESCALATION_DAYS} days"
            )
        due = review_due(runbooks.definition(session, r), now.date())
        if due:
            reasons.append("review date reached: " + ", ".join(due))
        if reasons:
            result.append(
                {
                    "key": r.key,
                    "category": r.category,
                    "status": r.status,
                    "revision": r.current_revision,
                    "updated_at": r.updated_at.isoformat(),
                    "days_untouched": (now - r.updated_at).days,
                    "escalations_28d": escalations,
                    "review_due": due,
                    "reasons": reasons,
                }
            )
    return result
