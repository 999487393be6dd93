"""Lessons that say "a new runbook is needed": captured with no runbook, folded into the
first revision of the runbook written for them, or rejected; due the week they were captured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.audit.service import gather_facts
from franchise.errors import Conflict, InvalidInput, NotFound
from franchise.lessons.models import Lesson
from franchise.lessons.service import (
    add_lesson,
    apply_lessons,
    create_runbook_with_lessons,
    list_lessons,
    reject_lesson,
    revise_runbook_with_lessons,
)
from franchise.lessons.stale import stale_runbooks
from franchise.orgsettings.service import set_setting
from franchise.runbooks import service as runbook_service
from franchise.runbooks.models import Runbook
from franchise.tickets.models import Ticket, TicketEvent
from franchise.tickets.service import change_ticket, create_ticket
from tests.lessons.helpers import NOW, tickets

LABEL_PRINTER = """\
format: 2
key: label-printer-blank
title: Label printer prints blank labels
category: printer
status: draft
start: ribbon
steps:
  ribbon:
    kind: check
    text: Is the ribbon loaded ink side out?
    options: {"No: reloaded it, and a test label prints": fixed, "Yes, or not sure": to-l2}
  fixed: {kind: resolve, text: Reloaded the ribbon; a test label prints.}
  to-l2: {kind: escalate, to: L2, text: Hand over with a photo of the ribbon path.}
"""


def uncovered(session: Session, title: str = "Zebra label printer prints blank labels") -> Ticket:
    """A ticket no runbook covers: no category, no runbook attached."""
    return create_ticket(session, title=title, created_at=NOW - timedelta(days=1))


def test_a_lesson_with_no_runbook_asks_for_a_new_one(
    session: Session, runbooks: dict[str, Runbook], ana: Staff
) -> None:
    ticket = uncovered(session)
    lesson = add_lesson(
        session,
        ticket=ticket.id,
        runbook=None,
        text="Warehouse Zebra printers need their own runbook: ribbon, calibration, driver",
        author=ana,
        now=NOW,
    )
    assert (lesson.runbook_id, lesson.state, lesson.ticket_id) == (None, "pending", ticket.id)
    [row] = list_lessons(session, pending_only=True, now=NOW)
    assert row["runbook"] is None
    assert row["new_runbook"] is True
    assert row["ticket_title"] == "Zebra label printer prints blank labels"
    assert (row["author"], row["revision"], row["overdue"]) == ("Ana Lee", None, False)
    # A lesson for a runbook is not one asking for a new runbook.
    other = add_lesson(session, ticket=ticket.id, runbook="printer", text="x", now=NOW)
    shown = {x["id"]: x for x in list_lessons(session, now=NOW)}
    assert (shown[other.id]["runbook"], shown[other.id]["new_runbook"]) == (
        "printer-problem",
        False,
    )


def test_a_blank_runbook_is_refused_naming_both_choices(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    ticket = uncovered(session)
    with pytest.raises(InvalidInput, match=r"name the runbook .* or record that a new runbook"):
        add_lesson(session, ticket=ticket.id, runbook="  ", text="x")
    with pytest.raises(InvalidInput, match="needs text"):
        add_lesson(session, ticket=ticket.id, runbook=None, text=" ")
    with pytest.raises(NotFound, match="no ticket #999999"):
        add_lesson(session, ticket=999999, runbook=None, text="x")
    assert session.scalars(select(Lesson)).all() == []


def test_creating_a_runbook_applies_the_lessons_in_its_first_revision(
    session: Session, runbooks: dict[str, Runbook], ana: Staff
) -> None:
    first, second = uncovered(session), uncovered(session, "Shipping labels come out blank")
    one = add_lesson(session, ticket=first.id, runbook=None, text="ribbon side", now=NOW)
    two = add_lesson(session, ticket=second.id, runbook=None, text="calibrate", now=NOW)
    same_ticket = add_lesson(session, ticket=second.id, runbook=None, text="driver", now=NOW)
    left = add_lesson(session, ticket=first.id, runbook=None, text="not this one", now=NOW)
    result, applied = create_runbook_with_lessons(
        session,
        source=LABEL_PRINTER,
        file="label-printer-blank.yaml",
        author=ana,
        note="written for the warehouse printers",
        lesson_ids=[one.id, two.id, same_ticket.id],
        now=NOW + timedelta(hours=2),
    )
    assert (result.action, result.revision) == ("created", 1)
    revision = runbook_service.revision(session, result.runbook, 1)
    # The revision records the tickets the lessons came from, each once.
    assert revision.ticket_ids == [str(first.id), str(second.id)]
    assert (revision.note, revision.author_id) == ("written for the warehouse printers", ana.id)
    assert [x.id for x in applied] == [one.id, two.id, same_ticket.id]
    for lesson in applied:
        assert lesson.state == "applied"
        assert lesson.runbook_id == result.runbook.id
        assert lesson.revision_id == revision.id
        assert lesson.applied_at == NOW + timedelta(hours=2)
    assert left.state == "pending" and left.runbook_id is None
    shown = {x["id"]: x for x in list_lessons(session, now=NOW)}
    assert {k: shown[one.id][k] for k in ("runbook", "revision", "new_runbook", "state")} == {
        "runbook": "label-printer-blank",
        "revision": 1,
        "new_runbook": True,
        "state": "applied",
    }
    assert [x["id"] for x in list_lessons(session, pending_only=True, now=NOW)] == [left.id]


def test_a_runbook_created_without_lessons_leaves_them_pending(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    lesson = add_lesson(session, ticket=uncovered(session).id, runbook=None, text="x", now=NOW)
    result, applied = create_runbook_with_lessons(session, source=LABEL_PRINTER)
    assert (result.action, applied) == ("created", [])
    assert runbook_service.revision(session, result.runbook, 1).note == "created"
    assert lesson.state == "pending"


def test_a_new_runbook_refuses_lessons_it_cannot_fold_in_and_saves_nothing(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    ticket = uncovered(session)
    wanted = add_lesson(session, ticket=ticket.id, runbook=None, text="new one", now=NOW)
    of_vpn = add_lesson(session, ticket=ticket.id, runbook="vpn", text="vpn", now=NOW)
    rejected = add_lesson(session, ticket=ticket.id, runbook=None, text="dup", now=NOW)
    lead = add_staff(
        session, name="Max Lead", email="max@example.com", role="technician", level="L2"
    )
    reject_lesson(session, rejected.id, by=lead, reason="same as the other one")

    def refused(ids: list[int]) -> None:
        create_runbook_with_lessons(session, source=LABEL_PRINTER, lesson_ids=ids)

    with pytest.raises(
        InvalidInput,
        match=f"lesson {of_vpn.id} belongs to runbook vpn-auth-failure, not to a new one",
    ):
        refused([wanted.id, of_vpn.id])
    with pytest.raises(InvalidInput, match=f"lesson {rejected.id} is rejected, not pending"):
        refused([wanted.id, rejected.id])
    with pytest.raises(NotFound, match="no lesson 424242"):
        refused([wanted.id, 424242])
    assert session.scalar(select(Runbook).where(Runbook.key == "label-printer-blank")) is None
    assert (wanted.state, wanted.runbook_id) == ("pending", None)
    # An existing key is refused before any lesson is touched.
    vpn_source = runbook_service.current_source(session, runbooks["vpn-auth-failure"])
    with pytest.raises(Conflict, match="'vpn-auth-failure' already exists; revise it instead"):
        create_runbook_with_lessons(session, source=vpn_source, lesson_ids=[wanted.id])
    assert runbooks["vpn-auth-failure"].current_revision == 1
    assert wanted.state == "pending"


def test_a_revision_of_an_existing_runbook_cannot_fold_in_a_new_runbook_lesson(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    lesson = add_lesson(session, ticket=uncovered(session).id, runbook=None, text="x", now=NOW)
    row = runbooks["printer-problem"]
    source = runbook_service.current_source(session, row)
    changed = source.replace("\ndescription:", "\ndescription: Changed.", 1)
    assert changed != source
    with pytest.raises(InvalidInput, match=f"lesson {lesson.id} asks for a new runbook"):
        revise_runbook_with_lessons(
            session, key="printer-problem", source=changed, lesson_ids=[lesson.id]
        )
    assert row.current_revision == 1
    assert lesson.state == "pending"
    # Nor can an old first revision claim a lesson of its runbook captured since.
    of_printer = add_lesson(session, ticket=uncovered(session).id, runbook="printer", text="y")
    with pytest.raises(InvalidInput, match="belongs to runbook printer-problem, not to a new"):
        apply_lessons(
            session,
            revision=runbook_service.revision(session, row, 1),
            lesson_ids=[of_printer.id],
        )


def test_a_new_runbook_lesson_is_rejected_with_its_reason_on_the_ticket(
    session: Session, runbooks: dict[str, Runbook], ana: Staff
) -> None:
    ticket = uncovered(session)
    lesson = add_lesson(
        session, ticket=ticket.id, runbook=None, text="one-off", author=ana, now=NOW
    )
    # Its author may withdraw it, like any lesson.
    reject_lesson(session, lesson.id, by=ana, reason="a one-off: the printer was replaced")
    assert lesson.state == "rejected" and lesson.runbook_id is None
    assert list_lessons(session, pending_only=True, now=NOW) == []
    note = session.scalar(
        select(TicketEvent.note).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "lesson_rejected"
        )
    )
    assert note == f"lesson {lesson.id} rejected by Ana Lee: a one-off: the printer was replaced"
    with pytest.raises(InvalidInput, match=f"lesson {lesson.id} is rejected, not pending"):
        create_runbook_with_lessons(session, source=LABEL_PRINTER, lesson_ids=[lesson.id])


def test_a_new_runbook_lesson_is_due_when_its_week_ends_like_any_lesson(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    set_setting(session, "timezone", "Europe/Berlin")
    # Wednesday 4 March 2026, 10:00 UTC: that week ends Monday 9 March 00:00 Berlin (CET),
    # which is Sunday 8 March 23:00 UTC.
    captured = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    deadline = datetime(2026, 3, 8, 23, 0, tzinfo=UTC)
    lesson = add_lesson(session, ticket=uncovered(session).id, runbook=None, text="x", now=captured)

    def row(now: datetime) -> dict[str, object]:
        return next(x for x in list_lessons(session, now=now) if x["id"] == lesson.id)

    assert row(deadline)["due_by"] == "2026-03-08T23:00:00+00:00"
    assert row(deadline - timedelta(seconds=1))["overdue"] is False
    assert row(deadline)["overdue"] is True
    assert row(deadline + timedelta(seconds=1))["overdue"] is True


def test_the_audit_counts_new_runbook_lessons_on_time_late_and_overdue(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    set_setting(session, "timezone", "Europe/Berlin")
    captured = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # due Sunday 8 March 23:00 UTC
    deadline = datetime(2026, 3, 8, 23, 0, tzinfo=UTC)
    ticket = uncovered(session)
    on_time, late, waiting, fresh = (
        add_lesson(session, ticket=ticket.id, runbook=None, text=t, now=captured)
        for t in ("on time", "late", "still waiting", "this week")
    )
    fresh.created_at = NOW  # Wednesday 11 March: its week is not over, so not yet due
    create_runbook_with_lessons(
        session, source=LABEL_PRINTER, lesson_ids=[on_time.id], now=deadline - timedelta(minutes=1)
    )
    second = LABEL_PRINTER.replace("key: label-printer-blank", "key: label-printer-feed")
    create_runbook_with_lessons(session, source=second, lesson_ids=[late.id], now=deadline)
    session.flush()
    facts = gather_facts(session, NOW)
    # Due: the two applied and the one overdue; the one of this week is left out.
    assert (facts.lessons_due, facts.lessons_on_time, facts.lessons_overdue) == (3, 1, 1)
    assert waiting.state == "pending" and fresh.state == "pending"


def test_new_runbook_lessons_make_no_runbook_stale_and_the_runbook_written_starts_fresh(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    runbooks["printer-problem"].updated_at = NOW - timedelta(days=91)
    for ticket in tickets(session, "printer", 2, days_ago=35):
        change_ticket(session, ticket, actor=None, at=NOW - timedelta(days=3), level="L2")
    for _ in range(3):
        add_lesson(session, ticket=uncovered(session).id, runbook=None, text="x", now=NOW)
    # Two escalations are not enough, and pending lessons are not escalations.
    assert stale_runbooks(session, NOW) == []
    [waiting, *_] = list_lessons(session, pending_only=True, now=NOW)
    create_runbook_with_lessons(session, source=LABEL_PRINTER, lesson_ids=[waiting["id"]])
    [third] = tickets(session, "printer", 1, days_ago=35)
    change_ticket(session, third, actor=None, at=NOW - timedelta(days=1), level="L2")
    # Three escalations now: the untouched printer runbook is stale, the new one is not.
    assert [r["key"] for r in stale_runbooks(session, NOW)] == ["printer-problem"]
