"""Lessons ("what we learned") from demo tickets: older ones folded in, recent ones pending."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from franchise.demo.records import LessonPlan, TicketPlan
from franchise.demo.stories import LESSONS
from franchise.demo.timeline import WEEK

# Weeks (of the eight complete ones) whose lesson was applied to a runbook that week.
APPLIED_WEEKS = (1, 2, 3, 4, 6)
PENDING = 3


def build_lessons(
    rng: random.Random,
    tickets: tuple[TicketPlan, ...],
    weeks: tuple[datetime, ...],
    now: datetime,
) -> tuple[LessonPlan, ...]:
    used: list[str] = []
    lessons = []
    for index in APPLIED_WEEKS:
        start = weeks[index]
        picked = _pick(rng, tickets, start, start + WEEK - timedelta(days=2), used)
        if picked is None:
            continue
        ticket, text, created = picked
        # Folded into the runbook within days: the rule is "before the week ends".
        applied = created + timedelta(hours=rng.randint(4, 60))
        lessons.append(_lesson(tickets, ticket, text, "applied", created, min(applied, now)))
    for _ in range(PENDING):
        picked = _pick(rng, tickets, now - timedelta(days=6), now - timedelta(hours=2), used)
        if picked is not None:
            ticket, text, created = picked
            lessons.append(_lesson(tickets, ticket, text, "pending", created, None))
    return tuple(lessons)


def _pick(
    rng: random.Random,
    tickets: tuple[TicketPlan, ...],
    start: datetime,
    end: datetime,
    used: list[str],
) -> tuple[int, str, datetime] | None:
    """A ticket resolved in [start, end) whose category still has an unused lesson."""
    candidates = [
        i
        for i, t in enumerate(tickets)
        if t.resolved_at is not None
        and start <= t.resolved_at < end
        and any(text not in used for text in LESSONS[t.category])
    ]
    if not candidates:
        return None
    index = rng.choice(candidates)
    ticket = tickets[index]
    text = next(text for text in LESSONS[ticket.category] if text not in used)
    used.append(text)
    assert ticket.resolved_at is not None
    created = ticket.resolved_at + timedelta(minutes=rng.randint(10, 90))
    return index, text, created


def _lesson(
    tickets: tuple[TicketPlan, ...],
    index: int,
    text: str,
    state: str,
    created: datetime,
    applied: datetime | None,
) -> LessonPlan:
    ticket = tickets[index]
    assert ticket.assignee is not None  # resolved tickets always have one
    return LessonPlan(
        ticket=index,
        category=ticket.category,
        text=text,
        author=ticket.assignee,
        state=state,
        created_at=created,
        applied_at=applied,
    )
