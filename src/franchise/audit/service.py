"""Gather the audit's facts with a few aggregate queries; score.py turns them into the report.

Each query groups in the database (tickets and contacts can run to millions of rows); only
short lists come back to Python: runbooks, recent drills and the last 56 days' lessons.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from franchise.approvals.models import ApprovalRequest
from franchise.audit.score import ApprovalKind, AuditFacts, build_audit
from franchise.contacts.hours import local_midnight, week_start
from franchise.contacts.models import OwnerContact
from franchise.db import utcnow
from franchise.drills.models import Drill, ReviewItem
from franchise.lessons.deadline import applied_on_time, lesson_deadline
from franchise.lessons.models import Lesson
from franchise.orgsettings.service import OrgConfig, get_config
from franchise.policydocs import service as policydocs
from franchise.runbooks.definition import CATEGORIES
from franchise.runbooks.models import Runbook
from franchise.tickets.models import Ticket, TicketEvent
from franchise.wording import plural

RECENT = timedelta(days=56)
BOTTLENECK_WINDOW = timedelta(days=28)
FRESH = timedelta(days=90)
DRILL_WINDOW = timedelta(days=31)
_RULE = re.compile(r"\(rule ([^)]+)\)")


def audit(session: Session, *, now: datetime | None = None) -> dict[str, Any]:
    """The audit report: score, components, bottleneck, next actions, runbook to write next."""
    now = now or utcnow()
    report = build_audit(gather_facts(session, now))
    report["now"] = now.isoformat()
    return report


def gather_facts(session: Session, now: datetime) -> AuditFacts:
    config = get_config(session)
    runbooks = _runbooks(session, now)
    held, reviewed, drill_detail = _drill(session, now)
    due, on_time, overdue = _lessons(session, now, config)
    recent_since, window_since = now - RECENT, now - BOTTLENECK_WINDOW
    return AuditFacts(
        four_week_average=_four_week_average(session, now, config),
        target_max=config.kpi_target_max,
        busiest=_busiest(session, recent_since, now),
        known_categories=CATEGORIES,
        runbook_of=runbooks["runbook_of"],
        validated_categories=runbooks["validated"],
        runbooks_active=runbooks["active"],
        runbooks_fresh_validated=runbooks["fresh"],
        escalation_map_stored=policydocs.count(session, "escalation") > 0,
        boundaries_stored=policydocs.count(session, "boundaries") > 0,
        drill_held=held,
        drill_reviewed=reviewed,
        drill_detail=drill_detail,
        lessons_due=due,
        lessons_on_time=on_time,
        lessons_overdue=overdue,
        interruptions_by_reason=_by_reason(session, window_since, now),
        approval_kinds=_approval_kinds(session, window_since, now),
        escalation_rules=_escalation_rules(session, window_since, now),
        communication_statuses=_interruptions_by(
            session, Ticket.status, window_since, now, reason="customer_communication"
        ),
        technical_categories=_interruptions_by(
            session, Ticket.category, window_since, now, reason="technical_decision"
        ),
        owner_categories=_interruptions_by(session, Ticket.category, recent_since, now),
        review_due=tuple(r["key"] for r in due_for_review(session, now.date())),
    )


def _interruptions(since: datetime, until: datetime) -> Any:
    return (
        OwnerContact.outcome == "interruption",
        OwnerContact.occurred_at >= since,
        OwnerContact.occurred_at <= until,
    )


def _four_week_average(session: Session, now: datetime, config: OrgConfig) -> float:
    """As the KPI: interruptions in the last four complete local weeks, divided by four."""
    current = week_start(now, config.tz)
    since = local_midnight(current - timedelta(weeks=4), config.tz)
    until = local_midnight(current, config.tz)
    count = session.scalar(
        select(func.count())
        .select_from(OwnerContact)
        .where(
            OwnerContact.outcome == "interruption",
            OwnerContact.occurred_at >= since,
            OwnerContact.occurred_at < until,
        )
    )
    return round(int(count or 0) / 4, 2)


def _by_reason(session: Session, since: datetime, until: datetime) -> dict[str, int]:
    rows = session.execute(
        select(OwnerContact.reason, func.count())
        .where(*_interruptions(since, until))
        .group_by(OwnerContact.reason)
    )
    return {str(reason): int(n) for reason, n in rows}


def _ranked(rows_in: Iterable[Any]) -> list[tuple[str, int]]:
    rows = [(str(name), int(n)) for name, n in rows_in]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def _interruptions_by(
    session: Session, column: Any, since: datetime, until: datetime, *, reason: str | None = None
) -> list[tuple[str, int]]:
    """Interruptions on tickets, counted by a ticket column (category or status)."""
    query = (
        select(column, func.count())
        .select_from(OwnerContact)
        .join(Ticket, Ticket.id == OwnerContact.ticket_id)
        .where(*_interruptions(since, until), column.is_not(None))
        .group_by(column)
    )
    if reason is not None:
        query = query.where(OwnerContact.reason == reason)
    return _ranked(session.execute(query))


def _busiest(session: Session, since: datetime, until: datetime) -> list[tuple[str, int]]:
    """Recent tickets by category. Grouping every recent ticket costs a sort of tens of
    thousands of rows at a large MSP; instead the categories are walked on the
    (category, created_at) index, a few lookups each (a "loose index scan"), and each
    category's recent tickets are counted on the same index."""
    cats = select(func.min(Ticket.category).label("category")).cte("cats", recursive=True)
    following = aliased(Ticket)
    cats = cats.union_all(
        select(
            select(func.min(following.category))
            .where(following.category > cats.c.category)
            .scalar_subquery()
        ).where(cats.c.category.is_not(None))
    )
    recent = aliased(Ticket)
    count = (
        select(func.count())
        .select_from(recent)
        .where(recent.category == cats.c.category)
        .where(recent.created_at >= since, recent.created_at <= until)
        .scalar_subquery()
    )
    rows = session.execute(select(cats.c.category, count).where(cats.c.category.is_not(None)))
    return _ranked((category, n) for category, n in rows if n)


def _runbooks(session: Session, now: datetime) -> dict[str, Any]:
    """Runbooks are a short list (tens): one query, counted here."""
    rows = session.execute(
        select(Runbook.key, Runbook.category, Runbook.status, Runbook.updated_at)
        .where(Runbook.status != "archived")
        .order_by(Runbook.key)
    ).all()
    validated = frozenset(r.category for r in rows if r.status == "validated")
    runbook_of: dict[str, str] = {}
    # Validated runbooks first, so a category's validated runbook is the one named.
    for r in sorted(rows, key=lambda r: (r.status != "validated", r.key)):
        runbook_of.setdefault(r.category, r.key)
    fresh = sum(1 for r in rows if r.status == "validated" and r.updated_at >= now - FRESH)
    return {"validated": validated, "runbook_of": runbook_of, "active": len(rows), "fresh": fresh}


def due_for_review(session: Session, today: date) -> list[dict[str, Any]]:
    """Non-archived runbooks with a review date (runbook or step) today or earlier."""
    from franchise.lessons.stale import review_due
    from franchise.runbooks import service as runbook_service

    out = []
    for row in runbook_service.list_runbooks(session, include_archived=False):
        due = review_due(runbook_service.definition(session, row), today)
        if due:
            out.append({"key": row.key, "due": due})
    return out


def _drill(session: Session, now: datetime) -> tuple[bool, bool, str]:
    """(held, reviewed, detail) for the latest drill that ended in the last 31 days."""
    since = now - DRILL_WINDOW
    drills = session.scalars(
        select(Drill).where(
            Drill.starts_at <= now, or_(Drill.ends_at >= since, Drill.ended_at >= since)
        )
    )
    ended = [
        (min(d.ends_at, d.ended_at or d.ends_at), d.id)
        for d in drills
        if since <= min(d.ends_at, d.ended_at or d.ends_at) <= now
    ]
    if not ended:
        return False, False, "no owner-offline drill ended in the last 31 days"
    end, drill_id = max(ended)
    open_items = session.scalar(
        select(func.count())
        .select_from(OwnerContact)
        .outerjoin(ReviewItem, ReviewItem.contact_id == OwnerContact.id)
        .where(OwnerContact.drill_id == drill_id, OwnerContact.outcome != "deflection")
        .where(or_(ReviewItem.id.is_(None), ReviewItem.disposition.is_(None)))
    )
    undisposed = session.scalar(
        select(func.count())
        .select_from(ReviewItem)
        .where(ReviewItem.drill_id == drill_id, ReviewItem.disposition.is_(None))
    )
    left = max(int(open_items or 0), int(undisposed or 0))
    when = end.date().isoformat()
    if left:
        return (
            True,
            False,
            f"drill {drill_id} ended {when}; {plural(left, 'review item')} still open",
        )
    return True, True, f"drill {drill_id} ended {when} and its review is complete"


def _lessons(session: Session, now: datetime, config: OrgConfig) -> tuple[int, int, int]:
    """(due, applied on time, overdue now): lessons are tens a week, so counted here."""
    tz = config.tz
    recent = session.execute(
        select(Lesson.state, Lesson.created_at, Lesson.applied_at).where(
            Lesson.created_at >= now - RECENT, Lesson.created_at <= now, Lesson.state != "rejected"
        )
    ).all()
    due = [r for r in recent if r.state == "applied" or lesson_deadline(r.created_at, tz) <= now]
    on_time = sum(applied_on_time(r.applied_at, r.created_at, tz) for r in due)
    pending = session.scalars(select(Lesson.created_at).where(Lesson.state == "pending"))
    overdue = sum(lesson_deadline(created, tz) <= now for created in pending)
    return len(due), on_time, overdue


def _approval_kinds(session: Session, since: datetime, until: datetime) -> list[ApprovalKind]:
    """Requests that waited on a person (not approved by boundary), by kind and level."""
    rows = session.execute(
        select(
            ApprovalRequest.action_kind,
            ApprovalRequest.approver_level,
            func.count(),
            func.max(ApprovalRequest.cost),
        )
        .where(ApprovalRequest.created_at >= since, ApprovalRequest.created_at <= until)
        .where(ApprovalRequest.decided_by_policy.is_(False))
        .group_by(ApprovalRequest.action_kind, ApprovalRequest.approver_level)
    )
    kinds = [ApprovalKind(k, lvl, int(n), float(cost or 0)) for k, lvl, n, cost in rows]
    return sorted(kinds, key=lambda a: (-a.count, a.kind or "", a.level or ""))


def _escalation_rules(session: Session, since: datetime, until: datetime) -> list[tuple[str, int]]:
    """The rules named in level changes of tickets whose escalation reached the owner."""
    tickets = (
        select(OwnerContact.ticket_id)
        .where(*_interruptions(since, until), OwnerContact.reason == "escalation")
        .where(OwnerContact.ticket_id.is_not(None))
        .distinct()
        .subquery()
    )
    # A join rather than `ticket_id IN (...)`: without planner statistics SQLite would read
    # every level change in history through the field index instead of these few tickets'.
    rows = session.execute(
        select(TicketEvent.note, func.count(func.distinct(TicketEvent.ticket_id)))
        .join(tickets, tickets.c.ticket_id == TicketEvent.ticket_id)
        .where(TicketEvent.field == "level")
        .group_by(TicketEvent.note)
    )
    counts: Counter[str] = Counter()
    for note, n in rows:
        found = _RULE.search(note or "")
        if found:
            counts[found.group(1)] += int(n)
        elif "override" in (note or ""):
            counts["(override of the map)"] += int(n)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
