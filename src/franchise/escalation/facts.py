"""Gather a ticket's `TicketFacts` from the database for the evaluator."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from franchise.approvals.service import latest_step_approval
from franchise.clients.models import Client
from franchise.db import utcnow
from franchise.errors import NotFound
from franchise.escalation.evaluate import TicketFacts
from franchise.runbooks import service as runbooks
from franchise.runbooks.definition import Runbook as RunbookDef
from franchise.runbooks.models import Runbook
from franchise.tickets.models import Ticket

# The tag alert correlation gives an outage ticket (franchise.alerts.outages).
OUTAGE_TAG = "outage"


@dataclass
class FactsCache:
    """Lookups shared by the facts of many tickets (the alert batches of one drain): the
    covering runbook of each (attachment, category), as its key and parsed definition.
    `fresh`: tickets opened in the current transaction, which cannot have a run yet."""

    fresh: set[int] = field(default_factory=set)
    covering: dict[tuple[str | None, str | None, str | None], tuple[str, RunbookDef] | None] = (
        field(default_factory=dict)
    )


def ticket_facts(
    session: Session,
    ticket: Ticket,
    *,
    now: datetime | None = None,
    cache: FactsCache | None = None,
) -> TicketFacts:
    client = session.get(Client, ticket.client_id) if ticket.client_id else None
    age = (now or utcnow()) - ticket.created_at
    facts = TicketFacts(
        category=ticket.category,
        priority=ticket.priority,
        tier=client.tier if client else None,
        title=ticket.title,
        body=ticket.body or "",
        tags=tuple(ticket.tags or ()),
        age_hours=max(age.total_seconds(), 0.0) / 3600,
        outage=OUTAGE_TAG in (ticket.tags or ()),
    )
    fresh = cache is not None and ticket.id in cache.fresh
    run = None if fresh else runbooks.current_run(session, ticket)
    if run is not None:
        # The run is what was actually done, so its runbook counts (it is the attached one
        # unless the ticket predates attachments being tracked).
        row = session.get(Runbook, run.runbook_id)
        if row is None:
            raise NotFound(f"runbook run {run.id} refers to a runbook that no longer exists")
        state = runbooks.run_state(session, run)
        blocked = None if state.finished else latest_step_approval(session, run.id, state.current)
        return replace(
            facts,
            runbook_key=row.key,
            run_outcome=state.outcome,
            run_level=state.level,
            run_step=state.current,
            run_step_text=state.step.text,
            blocked_level=blocked.approver_level
            if blocked and blocked.status in ("pending", "denied")
            else None,
            blocked_status=blocked.status if blocked else None,
        )
    if cache is None:
        row = covering_runbook(session, ticket)
        covering = (row.key, runbooks.definition(session, row)) if row is not None else None
    else:
        key = (ticket.runbook_source, ticket.runbook_key, ticket.category)
        if key not in cache.covering:
            row = covering_runbook(session, ticket)
            cache.covering[key] = (
                (row.key, runbooks.definition(session, row)) if row is not None else None
            )
        covering = cache.covering[key]
    if covering is None:
        return facts
    covering_key, parsed = covering
    return replace(
        facts,
        runbook_key=covering_key,
        run_step=parsed.start,
        run_step_text=parsed.steps[parsed.start].text,
    )


def covering_runbook(session: Session, ticket: Ticket) -> Runbook | None:
    """The attached runbook unless archived; else the first validated one of the category.

    Drafts are not used for the category: an unreviewed runbook should not hold a ticket back.
    A runbook only offered (not confident enough to attach) covers nothing, and neither does
    anything once a technician detached the runbook: the map's default decides then.
    """
    if ticket.runbook_source == "detached":
        return None
    # Two indexed lookups (key, category) rather than the whole library: this runs for
    # every new ticket, alert storms included.
    if ticket.runbook_key is not None:
        attached = session.scalar(_ATTACHED, {"key": ticket.runbook_key})
        if attached is not None:
            return attached
    if not ticket.category:
        return None
    return session.scalar(_FIRST_VALIDATED, {"category": ticket.category})


# Built once: statement construction costs more than these indexed lookups.
_ATTACHED = select(Runbook).where(Runbook.key == bindparam("key"), Runbook.status != "archived")
_FIRST_VALIDATED = (
    select(Runbook)
    .where(Runbook.category == bindparam("category"), Runbook.status == "validated")
    .order_by(Runbook.key)
    .limit(1)
)
