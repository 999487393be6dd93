"""Lessons: capture, the weekly deadline in the org's time zone, apply through a revision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.errors import InvalidInput, NotFound, PermissionDenied
from franchise.lessons.deadline import lesson_deadline
from franchise.lessons.models import Lesson
from franchise.lessons.service import (
    add_lesson,
    apply_lessons,
    list_lessons,
    parse_ids,
    reject_lesson,
    revise_runbook_with_lessons,
)
from franchise.orgsettings.service import set_setting
from franchise.runbooks import service as runbook_service
from franchise.runbooks.models import Runbook, RunbookRevision
from franchise.tickets.models import TicketEvent
from tests.lessons.helpers import NOW, tickets

BERLIN = ZoneInfo("Europe/Berlin")


def new_source(session: Session, row: Runbook, marker: str) -> str:
    """The runbook's current YAML with its description changed."""
    source = runbook_service.current_source(session, row)
    assert "\ndescription:" in source
    return source.replace("\ndescription:", f"\ndescription: {marker}.", 1)


def test_deadline_is_the_end_of_the_local_iso_week() -> None:
    # Sunday 8 March 2026 22:30 UTC is Sunday 23:30 in Berlin (CET, UTC+1): that week ends at
    # Monday 00:00 Berlin = Sunday 23:00 UTC. In UTC the same instant's week ends an hour later.
    captured = datetime(2026, 3, 8, 22, 30, tzinfo=UTC)
    assert lesson_deadline(captured, BERLIN) == datetime(2026, 3, 8, 23, 0, tzinfo=UTC)
    assert lesson_deadline(captured, ZoneInfo("UTC")) == datetime(2026, 3, 9, 0, 0, tzinfo=UTC)
    # Across the spring DST change (29 March): the week ends Monday 00:00 CEST = 22:00 UTC.
    assert lesson_deadline(datetime(2026, 3, 25, tzinfo=UTC), BERLIN) == datetime(
        2026, 3, 29, 22, 0, tzinfo=UTC
    )


def test_lesson_overdue_after_the_week_ends_in_the_org_time_zone(
    session: Session, runbooks: dict[str, Runbook], ana: Staff
) -> None:
    set_setting(session, "timezone", "Europe/Berlin")
    [ticket] = tickets(session, "vpn", 1)
    sunday_night = add_lesson(
        session,
        ticket=ticket.id,
        runbook="vpn-auth-failure",
        text="Check the certificate expiry first",
        author=ana,
        now=datetime(2026, 3, 8, 22, 30, tzinfo=UTC),  # Sunday 23:30 Berlin
    )
    monday_early = add_lesson(
        session,
        ticket=ticket.id,
        runbook="vpn",  # by category
        text="FortiClient 7.2 hides the cert error",
        now=datetime(2026, 3, 8, 23, 30, tzinfo=UTC),  # Monday 00:30 Berlin: the next week
    )

    def overdue(now: datetime) -> dict[int, bool]:
        return {x["id"]: x["overdue"] for x in list_lessons(session, now=now)}

    before = overdue(datetime(2026, 3, 8, 22, 59, tzinfo=UTC))
    assert before == {sunday_night.id: False, monday_early.id: False}
    at_midnight_berlin = overdue(datetime(2026, 3, 8, 23, 0, tzinfo=UTC))
    assert at_midnight_berlin == {sunday_night.id: True, monday_early.id: False}
    listed = list_lessons(session, now=NOW)
    assert listed[0]["runbook"] == "vpn-auth-failure"
    assert listed[0]["author"] == "Ana Lee"
    assert listed[0]["due_by"] == "2026-03-08T23:00:00+00:00"


def test_pending_only_and_state_changes_clear_overdue(
    session: Session, runbooks: dict[str, Runbook], ana: Staff
) -> None:
    [ticket] = tickets(session, "vpn", 1)
    old = add_lesson(
        session, ticket=ticket.id, runbook="vpn-auth-failure", text="a", now=NOW - timedelta(days=9)
    )
    lead = add_staff(
        session, name="Max Lead", email="max@example.com", role="technician", level="L2"
    )
    someone = add_staff(session, name="Lee", email="lee@example.com", role="technician", level="L1")
    # An L1 who did not write the lesson may not throw it away.
    with pytest.raises(PermissionDenied, match="only runbook maintainers"):
        reject_lesson(session, old.id, by=someone, reason="not useful")
    reject_lesson(session, old.id, by=lead, reason="already in the runbook")
    assert list_lessons(session, pending_only=True, now=NOW) == []
    [row] = list_lessons(session, now=NOW)
    assert (row["state"], row["overdue"]) == ("rejected", False)
    note = session.scalar(select(TicketEvent.note).where(TicketEvent.kind == "lesson_rejected"))
    assert note == f"lesson {old.id} rejected by Max Lead: already in the runbook"
    with pytest.raises(InvalidInput, match=f"lesson {old.id} is rejected, not pending"):
        reject_lesson(session, old.id, by=lead, reason="again")


def test_add_lesson_refuses_bad_input(session: Session, runbooks: dict[str, Runbook]) -> None:
    [ticket] = tickets(session, "vpn", 1)
    with pytest.raises(InvalidInput, match="needs text"):
        add_lesson(session, ticket=ticket.id, runbook="vpn-auth-failure", text="  ")
    with pytest.raises(NotFound, match="no runbook 'nope'"):
        add_lesson(session, ticket=ticket.id, runbook="nope", text="x")
    with pytest.raises(NotFound, match="no ticket #999999"):
        add_lesson(session, ticket=999999, runbook="vpn-auth-failure", text="x")


def test_revision_records_the_lessons_and_tickets_it_came_from(
    session: Session, runbooks: dict[str, Runbook], ana: Staff
) -> None:
    t1, t2 = tickets(session, "vpn", 2)
    first = add_lesson(session, ticket=t1.id, runbook="vpn-auth-failure", text="one", now=NOW)
    second = add_lesson(session, ticket=t2.id, runbook="vpn-auth-failure", text="two", now=NOW)
    third = add_lesson(session, ticket=t2.id, runbook="vpn-auth-failure", text="three", now=NOW)
    row = runbooks["vpn-auth-failure"]
    result, applied = revise_runbook_with_lessons(
        session,
        key="vpn-auth-failure",
        source=new_source(session, row, "Lessons one and two"),
        file="vpn.yaml",
        author=ana,
        note="lessons from this week",
        lesson_ids=[first.id, second.id],
        expected_revision=1,
        now=NOW + timedelta(hours=1),
    )
    assert (result.action, result.revision) == ("revised", 2)
    revision = runbooks_revision(session, row, 2)
    assert revision.ticket_ids == [str(t1.id), str(t2.id)]
    assert revision.note == "lessons from this week"
    assert [x.id for x in applied] == [first.id, second.id]
    for lesson in (first, second):
        assert lesson.state == "applied"
        assert lesson.revision_id == revision.id
        assert lesson.applied_at == NOW + timedelta(hours=1)
    assert third.state == "pending"
    # Applying a third lesson to the same revision adds its ticket only once.
    apply_lessons(session, revision=revision, lesson_ids=[third.id], now=NOW)
    session.expire_all()
    assert runbooks_revision(session, row, 2).ticket_ids == [str(t1.id), str(t2.id)]
    assert [x["revision"] for x in list_lessons(session, now=NOW)] == [2, 2, 2]


def runbooks_revision(session: Session, row: Runbook, number: int) -> RunbookRevision:
    return runbook_service.revision(session, row, number)


def test_lesson_of_another_runbook_is_refused_and_nothing_is_saved(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    [ticket] = tickets(session, "patching", 1)
    vpn = add_lesson(session, ticket=ticket.id, runbook="vpn-auth-failure", text="v", now=NOW)
    patch = add_lesson(session, ticket=ticket.id, runbook="patch-stuck", text="p", now=NOW)
    row = runbooks["vpn-auth-failure"]
    with pytest.raises(InvalidInput, match=f"lesson {patch.id} belongs to another runbook"):
        revise_runbook_with_lessons(
            session,
            key="vpn-auth-failure",
            source=new_source(session, row, "Changed"),
            lesson_ids=[vpn.id, patch.id],
        )
    assert row.current_revision == 1
    assert (vpn.state, patch.state) == ("pending", "pending")
    with pytest.raises(NotFound, match="no lesson 424242"):
        apply_lessons(session, revision=runbooks_revision(session, row, 1), lesson_ids=[424242])


def test_applied_lesson_cannot_be_applied_again(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    [ticket] = tickets(session, "vpn", 1)
    lesson = add_lesson(session, ticket=ticket.id, runbook="vpn-auth-failure", text="v", now=NOW)
    row = runbooks["vpn-auth-failure"]
    revise_runbook_with_lessons(
        session, key="vpn", source=new_source(session, row, "A"), lesson_ids=[lesson.id]
    )
    with pytest.raises(InvalidInput, match=f"lesson {lesson.id} is applied, not pending"):
        revise_runbook_with_lessons(
            session, key="vpn", source=new_source(session, row, "B"), lesson_ids=[lesson.id]
        )
    assert row.current_revision == 2


def test_unchanged_source_cannot_apply_lessons(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    [ticket] = tickets(session, "vpn", 1)
    lesson = add_lesson(session, ticket=ticket.id, runbook="vpn-auth-failure", text="v", now=NOW)
    row = runbooks["vpn-auth-failure"]
    with pytest.raises(InvalidInput, match="same as revision 1"):
        revise_runbook_with_lessons(
            session,
            key="vpn-auth-failure",
            source=runbook_service.current_source(session, row),
            file="vpn.yaml",
            lesson_ids=[lesson.id],
        )
    assert session.get(Lesson, lesson.id).state == "pending"  # type: ignore[union-attr]


def test_parse_ids_names_a_bad_part() -> None:
    assert parse_ids("12,13 #14") == [12, 13, 14]
    with pytest.raises(InvalidInput, match="'x1' is not a lesson id"):
        parse_ids("12,x1")


def test_revise_without_lessons_is_a_plain_revision(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    row = runbooks["vpn-auth-failure"]
    result, applied = revise_runbook_with_lessons(
        session, key="vpn", source=new_source(session, row, "Plain"), note="typo"
    )
    assert (result.action, result.revision, applied) == ("revised", 2, [])
    assert runbooks_revision(session, row, 2).ticket_ids == []
    with pytest.raises(InvalidInput, match="has key 'vpn-auth-failure', not 'patch-stuck'"):
        revise_runbook_with_lessons(
            session, key="patch-stuck", source=new_source(session, row, "X"), file="v.yaml"
        )
