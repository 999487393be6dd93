"""Drill reviews and weekly reviews: list what reached the owner, and close each item.

An item is closed with a disposition that links to the change it led to:
- improve_runbook: the runbook's current revision, which must be newer than the review's
  reference time (the drill's start; for a weekly item, the contact itself);
- tighten_rule: the latest escalation map revision after that time that has the rule,
  and the rule must differ from the rule in force at that time (or be new).
A change made before the drill started cannot be what the drill taught.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.contacts.hours import local_midnight, week_start
from franchise.contacts.models import OwnerContact
from franchise.db import utcnow
from franchise.drills.models import DISPOSITIONS, REVIEWED_OUTCOMES, Drill, ReviewItem
from franchise.drills.rules import rule_shape
from franchise.drills.service import all_drills, drill_dict, get_drill, window
from franchise.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Refused
from franchise.escalation.definition import Rule
from franchise.escalation.service import KIND as ESCALATION
from franchise.escalation.service import validate_map
from franchise.orgsettings.service import get_config
from franchise.policydocs import service as policydocs
from franchise.policydocs.models import PolicyRevision
from franchise.runbooks import service as runbooks
from franchise.runbooks.models import Runbook, RunbookRevision
from franchise.tickets.models import Ticket

MAX_NOTE = 4000


def drill_review(
    session: Session, drill_id: int | None = None, *, now: datetime | None = None
) -> dict[str, Any]:
    """Every contact that reached or tried to reach the owner during the drill, each a
    review item (opened when the contact was logged); the latest drill that began by default."""
    when = now or utcnow()
    drill = get_drill(session, drill_id) if drill_id is not None else _latest_begun(session, when)
    items = _items(
        session,
        OwnerContact.drill_id == drill.id,
        OwnerContact.outcome.in_(REVIEWED_OUTCOMES),
    )
    data = drill_dict(session, drill, when)
    return {
        "drill": data,
        "items": item_dicts(session, [i for i, _ in items], contacts={c.id: c for _, c in items}),
        "open": data["review"]["open"],
        "review_complete": data["review"]["review_complete"],
    }


def _latest_begun(session: Session, now: datetime) -> Drill:
    for drill in all_drills(session):
        if window(drill).state(now) in ("active", "finished"):
            return drill
    raise NotFound("no drill has run yet; start one with `franchise drill start`")


def week_review(
    session: Session, *, week: date | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Interruptions outside drills in one local week (Monday to Sunday; the week of `week`,
    default this week), each a review item closed like a drill's."""
    when = now or utcnow()
    tz = get_config(session).tz
    monday = week_start(when, tz) if week is None else week - timedelta(days=week.weekday())
    start, end = local_midnight(monday, tz), local_midnight(monday + timedelta(days=7), tz)
    items = _items(
        session,
        OwnerContact.outcome == "interruption",
        OwnerContact.drill_id.is_(None),
        OwnerContact.occurred_at >= start,
        OwnerContact.occurred_at < end,
    )
    open_items = sum(1 for i, _ in items if i.disposition is None)
    return {
        "week_start": monday.isoformat(),
        "timezone": str(tz),
        "complete_week": end <= when,
        "items": item_dicts(session, [i for i, _ in items], contacts={c.id: c for _, c in items}),
        "open": open_items,
        "review_complete": open_items == 0,
    }


def earlier_open_items(
    session: Session, *, now: datetime | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Weekly review items still open from the weeks before this one, oldest first: a week
    that ends does not close what reached the owner in it."""
    when = now or utcnow()
    tz = get_config(session).tz
    start = local_midnight(week_start(when, tz), tz)
    items = _items(
        session,
        OwnerContact.outcome == "interruption",
        OwnerContact.drill_id.is_(None),
        OwnerContact.occurred_at < start,
        ReviewItem.disposition.is_(None),
    )[:limit]
    return item_dicts(session, [i for i, _ in items], contacts={c.id: c for _, c in items})


def _items(session: Session, *contact_filter: Any) -> list[tuple[ReviewItem, OwnerContact]]:
    """The items of the contacts matching `contact_filter`, in the order they were logged."""
    # Sorted here, not in SQL: an ORDER BY occurred_at leads the planner to walk every
    # contact in time order rather than pick the few of one drill.
    rows = session.execute(
        select(ReviewItem, OwnerContact)
        .join(OwnerContact, OwnerContact.id == ReviewItem.contact_id)
        .where(*contact_filter)
    )
    pairs = [(item, contact) for item, contact in rows]
    return sorted(pairs, key=lambda pair: (pair[1].occurred_at, pair[1].id))


def get_item(session: Session, item_id: int) -> ReviewItem:
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise NotFound(
            f"no review item #{item_id}; `franchise drill review` or `franchise review week` "
            "lists them"
        )
    return item


def dispose_item(
    session: Session,
    item_id: int,
    *,
    improve_runbook: str | None = None,
    tighten_rule: str | None = None,
    note: str,
    by: Staff | None = None,
    now: datetime | None = None,
) -> ReviewItem:
    """Close an item with the runbook revision or escalation-rule change it led to."""
    when = now or utcnow()
    if by is not None and not by.is_manager:
        raise PermissionDenied("only the owner or an admin may close review items")
    if (improve_runbook is None) == (tighten_rule is None):
        raise InvalidInput(
            "give one disposition: --improve-runbook KEY or --tighten-rule NAME "
            f"({', '.join(DISPOSITIONS)})"
        )
    text = note.strip()
    if not text:
        raise InvalidInput("say what changed and why (--note)")
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"the note is over {MAX_NOTE} characters; shorten it")
    item = get_item(session, item_id)
    if item.disposition is not None:
        raise Conflict(f"review item #{item.id} is already closed ({item.disposition})")
    since, what = _reference_time(session, item)
    if improve_runbook is not None:
        item.runbook_revision_id = _runbook_revision(session, improve_runbook, since, what).id
        item.disposition = "improve_runbook"
    elif tighten_rule is not None:  # exactly one of the two was given (checked above)
        item.policy_revision_id = _rule_revision(session, tighten_rule, since, what).id
        item.disposition = "tighten_rule"
        text = f"[rule {tighten_rule}] {text}"
    item.note = text
    item.disposed_by_id = by.id if by else None
    item.disposed_at = when
    session.flush()
    return item


def _reference_time(session: Session, item: ReviewItem) -> tuple[datetime, str]:
    if item.drill_id is not None:
        drill = get_drill(session, item.drill_id)
        return drill.starts_at, f"drill #{drill.id} started ({drill.starts_at.isoformat()})"
    contact = session.get(OwnerContact, item.contact_id)
    if contact is None:
        raise NotFound(
            f"review item #{item.id} refers to contact #{item.contact_id}, which is gone"
        )
    return contact.occurred_at, f"contact #{contact.id} ({contact.occurred_at.isoformat()})"


def _runbook_revision(session: Session, key: str, since: datetime, what: str) -> RunbookRevision:
    row = runbooks.get_runbook(session, key)
    current = runbooks.revision(session, row)
    if current.created_at <= since:
        raise Refused(
            f"runbook '{row.key}' has no revision since {what} (it is at revision "
            f"{current.number}); revise the runbook first (`franchise runbook revise "
            f"{row.key} --file FILE --note ...`), then dispose the item"
        )
    return current


def _rule_revision(session: Session, name: str, since: datetime, what: str) -> PolicyRevision:
    history = policydocs.revisions(session, ESCALATION)
    before = [r for r in history if r.created_at <= since]
    after = [r for r in history if r.created_at > since]
    how = "change it and save the map (`franchise escalation import FILE --note ...`)"
    if not after:
        raise Refused(
            f"the escalation map has no revision since {what}; {how}, then dispose the item"
        )
    latest = after[-1]
    rule = _find_rule(latest, name)
    if rule is None:
        names = ", ".join(r.name for r in validate_map(latest.source).rules)
        raise InvalidInput(
            f"the escalation map (revision {latest.number}) has no rule '{name}' (rules: {names})"
        )
    old = _find_rule(before[-1], name) if before else None
    if old is not None and rule_shape(old) == rule_shape(rule):
        raise Refused(f"rule '{name}' is unchanged since {what}; {how}, then dispose the item")
    return latest


def _find_rule(revision: PolicyRevision, name: str) -> Rule | None:
    return next((r for r in validate_map(revision.source).rules if r.name == name), None)


def item_dicts(
    session: Session,
    items: list[ReviewItem],
    *,
    contacts: dict[int, OwnerContact] | None = None,
) -> list[dict[str, Any]]:
    """Items with their contact, ticket, asker and the change each led to (`contacts` by id,
    when the caller has them already)."""
    if contacts is None:
        contacts = {c.id: c for c in _by_ids(session, OwnerContact, [i.contact_id for i in items])}
    staff_ids = [c.staff_id for c in contacts.values() if c.staff_id]
    staff_ids += [i.disposed_by_id for i in items if i.disposed_by_id]
    names = {s.id: s.name for s in _by_ids(session, Staff, staff_ids)}
    titles = _titles(session, [i.ticket_id for i in items])
    revs = {
        r.id: r for r in _by_ids(session, RunbookRevision, [i.runbook_revision_id for i in items])
    }
    books = {b.id: b.key for b in _by_ids(session, Runbook, [r.runbook_id for r in revs.values()])}
    policies = {
        p.id: p for p in _by_ids(session, PolicyRevision, [i.policy_revision_id for i in items])
    }
    out = []
    for item in items:
        contact = contacts[item.contact_id]
        rev = revs.get(item.runbook_revision_id) if item.runbook_revision_id else None
        policy = policies.get(item.policy_revision_id) if item.policy_revision_id else None
        out.append(
            {
                "id": item.id,
                "drill_id": item.drill_id,
                "week_start": item.week_start,
                "contact_id": item.contact_id,
                "occurred_at": contact.occurred_at.isoformat(),
                "ticket_id": item.ticket_id,
                "ticket_title": titles.get(item.ticket_id) if item.ticket_id else None,
                "by": names.get(contact.staff_id) if contact.staff_id else None,
                "channel": contact.channel,
                "reason": contact.reason,
                "outcome": contact.outcome,
                "emergency": contact.emergency,
                "question": contact.question,
                "disposition": item.disposition,
                "runbook": books.get(rev.runbook_id) if rev else None,
                "runbook_revision": rev.number if rev else None,
                "runbook_revision_id": item.runbook_revision_id,
                "rule": _rule_of(item),
                "policy_revision": policy.number if policy else None,
                "policy_revision_id": item.policy_revision_id,
                "note": item.note,
                "disposed_by": names.get(item.disposed_by_id) if item.disposed_by_id else None,
                "disposed_at": item.disposed_at.isoformat() if item.disposed_at else None,
            }
        )
    return out


def _rule_of(item: ReviewItem) -> str | None:
    # The rule name is kept at the head of the note ("[rule NAME] ...") until review items
    # get a column of their own.
    if item.disposition != "tighten_rule" or not item.note or not item.note.startswith("[rule "):
        return None
    return item.note[len("[rule ") : item.note.index("]")]


def _titles(session: Session, ids: Sequence[int | None]) -> dict[int, str]:
    # Titles only: a ticket row carries its body and custom fields, which a review never shows.
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(Ticket.id, Ticket.title).where(Ticket.id.in_(wanted)))
    return {ticket_id: title for ticket_id, title in rows}


def _by_ids(session: Session, model: Any, ids: Sequence[int | None]) -> list[Any]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return []
    return list(session.scalars(select(model).where(model.id.in_(wanted))))
