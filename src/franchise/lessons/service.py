"""Lessons: capture them on tickets, fold them into runbook revisions, or reject them.

A lesson with no runbook says "a new runbook is needed for tickets like this one": it is
folded into the first revision of the runbook written for it (and then belongs to that
runbook), or rejected like any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.db import utcnow
from franchise.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from franchise.lessons.deadline import is_overdue, lesson_deadline
from franchise.lessons.models import Lesson
from franchise.orgsettings.service import get_config
from franchise.runbooks import service as runbooks
from franchise.runbooks.models import Runbook, RunbookRevision
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note, get_ticket

MAX_TEXT = 5000


def add_lesson(
    session: Session,
    *,
    ticket: int | str,
    runbook: str | None,
    text: str,
    author: Staff | None = None,
    now: datetime | None = None,
) -> Lesson:
    """Record what a ticket taught us, for the runbook (key or category) it belongs to; with
    `runbook=None`, that a new runbook is needed for tickets like this one."""
    text = text.strip()
    if not text:
        raise InvalidInput("a lesson needs text: what did this ticket teach us?")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"a lesson is at most {MAX_TEXT} characters, got {len(text)}")
    found_ticket = get_ticket(session, ticket)
    runbook_id = None
    if runbook is not None:
        if not runbook.strip():
            raise InvalidInput(
                "name the runbook the lesson is for (its key or category), or record that a "
                "new runbook is needed"
            )
        runbook_id = runbooks.get_runbook(session, runbook.strip()).id
    lesson = Lesson(
        ticket_id=found_ticket.id,
        runbook_id=runbook_id,
        text=text,
        author_id=author.id if author else None,
        state="pending",
        created_at=now or utcnow(),
    )
    session.add(lesson)
    session.flush()
    return lesson


def get_lesson(session: Session, lesson_id: int) -> Lesson:
    lesson = session.get(Lesson, lesson_id)
    if lesson is None:
        raise NotFound(f"no lesson {lesson_id}")
    return lesson


def list_lessons(
    session: Session,
    *,
    pending_only: bool = False,
    ticket_id: int | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Lessons, oldest first, each with its deadline and `overdue` flag (org time zone)."""
    query = select(Lesson).order_by(Lesson.created_at, Lesson.id)
    if pending_only:
        query = query.where(Lesson.state == "pending")
    if ticket_id is not None:
        query = query.where(Lesson.ticket_id == ticket_id)
    return lesson_dicts(session, list(session.scalars(query)), now=now)


def lesson_dicts(
    session: Session, lessons: Sequence[Lesson], *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """JSON-ready lessons, with runbook keys, ticket titles, author names and revision numbers
    in 4 queries. `new_runbook` marks a lesson that asked for a new runbook: `runbook` is null
    until the runbook written for it folds it into its first revision."""
    tz = get_config(session).tz
    now = now or utcnow()
    keys = _lookup(session, Runbook.id, Runbook.key, {x.runbook_id for x in lessons})
    titles = _lookup(session, Ticket.id, Ticket.title, {x.ticket_id for x in lessons})
    names = _lookup(session, Staff.id, Staff.name, {x.author_id for x in lessons})
    numbers = _lookup(
        session, RunbookRevision.id, RunbookRevision.number, {x.revision_id for x in lessons}
    )
    return [
        {
            "id": x.id,
            "ticket_id": x.ticket_id,
            "ticket_title": titles.get(x.ticket_id),
            "runbook": keys.get(x.runbook_id),
            # A runbook's first revision folds in only lessons that asked for a new runbook.
            "new_runbook": x.runbook_id is None or numbers.get(x.revision_id) == 1,
            "text": x.text,
            "author": names.get(x.author_id),
            "state": x.state,
            "revision": numbers.get(x.revision_id),
            "created_at": x.created_at.isoformat(),
            "due_by": lesson_deadline(x.created_at, tz).isoformat(),
            "applied_at": x.applied_at.isoformat() if x.applied_at else None,
            "overdue": is_overdue(x.state, x.created_at, now, tz),
        }
        for x in lessons
    ]


def _lookup(session: Session, key: Any, value: Any, ids: Iterable[int | None]) -> dict[Any, Any]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {k: v for k, v in session.execute(select(key, value).where(key.in_(wanted)))}


def _pending_for(
    session: Session, runbook_id: int | None, lesson_ids: Sequence[int]
) -> list[Lesson]:
    """The lessons, checked: each exists, is pending and belongs to this runbook, or, with
    `runbook_id=None` (a runbook being created), asked for a new runbook."""
    ids = list(dict.fromkeys(lesson_ids))
    if not ids:
        return []
    # Locked: two maintainers folding the same lesson in at once are decided one by one.
    query = select(Lesson).where(Lesson.id.in_(ids)).with_for_update()
    found = {x.id: x for x in session.scalars(query)}
    for lesson_id in ids:
        lesson = found.get(lesson_id)
        if lesson is None:
            raise NotFound(f"no lesson {lesson_id}")
        if lesson.runbook_id != runbook_id:
            raise InvalidInput(_not_for(session, lesson, runbook_id))
        if lesson.state != "pending":
            raise InvalidInput(f"lesson {lesson_id} is {lesson.state}, not pending")
    return [found[i] for i in ids]


def _not_for(session: Session, lesson: Lesson, runbook_id: int | None) -> str:
    if lesson.runbook_id is None:
        return (
            f"lesson {lesson.id} asks for a new runbook: it is folded into the first revision "
            "of the runbook written for it"
        )
    if runbook_id is None:
        key = session.scalar(select(Runbook.key).where(Runbook.id == lesson.runbook_id))
        return f"lesson {lesson.id} belongs to runbook {key}, not to a new one: revise {key}"
    return f"lesson {lesson.id} belongs to another runbook"


def apply_lessons(
    session: Session,
    *,
    revision: RunbookRevision,
    lesson_ids: Sequence[int],
    now: datetime | None = None,
) -> list[Lesson]:
    """Mark lessons applied by `revision`, and record their tickets on the revision. A first
    revision folds in lessons that asked for a new runbook; they then belong to it."""
    first = revision.number == 1
    lessons = _pending_for(session, None if first else revision.runbook_id, lesson_ids)
    when = now or utcnow()
    for lesson in lessons:
        lesson.runbook_id = revision.runbook_id
        lesson.state = "applied"
        lesson.revision_id = revision.id
        lesson.applied_at = when
    tickets = list(revision.ticket_ids or [])
    for lesson in lessons:
        if lesson.ticket_id is not None and str(lesson.ticket_id) not in tickets:
            tickets.append(str(lesson.ticket_id))
    # A JSON column: assign a new list so SQLAlchemy sees the change.
    revision.ticket_ids = tickets
    session.flush()
    return lessons


def revise_runbook_with_lessons(
    session: Session,
    *,
    key: str,
    source: str,
    file: str = "<runbook>",
    author: Staff | None = None,
    note: str = "",
    lesson_ids: Sequence[int] = (),
    expected_revision: int | None = None,
    now: datetime | None = None,
) -> tuple[runbooks.ImportResult, list[Lesson]]:
    """Save a new revision of runbook `key` and mark the lessons it folds in as applied.

    The lessons are checked before anything is saved, so a bad id stores nothing.
    """
    row = runbooks.get_runbook(session, key)
    parsed = runbooks.validate(source, file)
    if parsed.key != row.key:
        raise InvalidInput(f"{file} has key '{parsed.key}', not '{row.key}'")
    _pending_for(session, row.id, lesson_ids)
    result = runbooks.save_runbook(
        session,
        source,
        file=file,
        author=author,
        note=note,
        expected_revision=expected_revision,
    )
    if not lesson_ids:
        return result, []
    if result.action == "unchanged":
        raise InvalidInput(
            f"{file} is the same as revision {result.revision}: fold the lessons into the runbook "
            "before marking them applied"
        )
    revision = runbooks.revision(session, result.runbook, result.revision)
    return result, apply_lessons(session, revision=revision, lesson_ids=lesson_ids, now=now)


def create_runbook_with_lessons(
    session: Session,
    *,
    source: str,
    file: str = "<runbook>",
    author: Staff | None = None,
    note: str = "",
    lesson_ids: Sequence[int] = (),
    now: datetime | None = None,
) -> tuple[runbooks.ImportResult, list[Lesson]]:
    """Create a runbook whose first revision folds in pending lessons that asked for a new
    runbook: they are marked applied and the revision records their tickets.

    The key and the lessons are checked before anything is saved, so a bad id stores nothing.
    """
    parsed = runbooks.validate(source, file)
    if session.scalar(select(Runbook.id).where(Runbook.key == parsed.key)) is not None:
        raise Conflict(f"a runbook with key '{parsed.key}' already exists; revise it instead")
    _pending_for(session, None, lesson_ids)
    result = runbooks.save_runbook(
        session, source, file=file, author=author, note=note, expected_revision=0
    )
    if not lesson_ids:
        return result, []
    revision = runbooks.revision(session, result.runbook, result.revision)
    return result, apply_lessons(session, revision=revision, lesson_ids=lesson_ids, now=now)


def reject_lesson(session: Session, lesson_id: int, *, by: Staff, reason: str) -> Lesson:
    """Reject a pending lesson; the reason goes into its ticket's history."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why the lesson is rejected (--reason)")
    lesson = get_lesson(session, lesson_id)
    maintainer = by.is_manager or by.level in ("L2", "owner")
    if not maintainer and lesson.author_id != by.id:
        raise PermissionDenied(
            f"only runbook maintainers (L2, the owner, admins) or its author may reject lesson "
            f"{lesson_id}"
        )
    if lesson.state != "pending":
        raise InvalidInput(f"lesson {lesson_id} is {lesson.state}, not pending")
    lesson.state = "rejected"
    if lesson.ticket_id is not None:
        ticket = get_ticket(session, lesson.ticket_id)
        add_note(
            session,
            ticket,
            actor=by,
            kind="lesson_rejected",
            note=f"lesson {lesson.id} rejected by {by.name}: {reason}",
        )
    session.flush()
    return lesson


def parse_ids(text: str) -> list[int]:
    """'12,13 14' -> [12, 13, 14]; anything else is named."""
    ids = []
    for part in text.replace(",", " ").split():
        if not part.lstrip("#").isdecimal():
            raise InvalidInput(f"'{part}' is not a lesson id (use numbers like 12,13)")
        ids.append(int(part.lstrip("#")))
    return ids
