"""Drills: start, overlap, end, status and the cadence warning, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from franchise.db import utcnow
from franchise.drills.contact_log import log_contact
from franchise.drills.service import active_drill, drill_status, end_drill, start_drill
from franchise.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from franchise.orgsettings.service import get_config, set_setting
from tests.ask.fixtures import Team

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_drill_lasts_the_organisations_drill_days_by_default(
    session: Session, team: Team
) -> None:
    set_setting(session, "drill_days", "5")
    drill = start_drill(session, by=team.olivia, now=MONDAY)
    assert drill.starts_at == MONDAY
    assert drill.ends_at == MONDAY + timedelta(days=5)
    assert drill.created_by_id == team.olivia.id
    assert "domain-controller-down" in drill.emergency_criteria
    assert "runbook escalations to owner" in drill.emergency_criteria


def test_a_drill_can_be_scheduled_for_later(session: Session, library: None) -> None:
    drill = start_drill(session, days=3, at=MONDAY + timedelta(days=7), now=MONDAY)
    assert active_drill(session, MONDAY) is None
    assert active_drill(session, MONDAY + timedelta(days=8)) == drill


def test_an_overlapping_drill_is_refused(session: Session, library: None) -> None:
    first = start_drill(session, days=3, now=MONDAY)
    with pytest.raises(Conflict, match=f"drill #{first.id} \\(active\\)"):
        start_drill(session, days=3, now=MONDAY + timedelta(days=1))
    with pytest.raises(Conflict):
        start_drill(
            session, days=3, at=MONDAY - timedelta(days=2, hours=23), now=MONDAY - timedelta(days=3)
        )
    # Right after it ends is fine.
    start_drill(session, days=3, at=MONDAY + timedelta(days=3), now=MONDAY)


def test_a_drill_cannot_start_in_the_past(session: Session, library: None) -> None:
    with pytest.raises(InvalidInput, match="cannot start in the past"):
        start_drill(session, at=MONDAY - timedelta(hours=1), now=MONDAY)


def test_only_the_owner_or_an_admin_starts_a_drill(session: Session, team: Team) -> None:
    with pytest.raises(PermissionDenied):
        start_drill(session, by=team.bo, now=MONDAY)


def test_a_drill_longer_than_a_month_is_refused(session: Session, library: None) -> None:
    with pytest.raises(InvalidInput, match="1 to 30 days"):
        start_drill(session, days=31, now=MONDAY)


def test_ending_a_drill_stops_it_now_and_frees_the_calendar(session: Session, team: Team) -> None:
    drill = start_drill(session, days=3, now=MONDAY)
    stop = MONDAY + timedelta(hours=20)
    assert end_drill(session, by=team.olivia, now=stop) == drill
    assert drill.ended_at == stop
    assert active_drill(session, stop + timedelta(minutes=1)) is None
    with pytest.raises(NotFound, match="no drill is running"):
        end_drill(session, now=stop + timedelta(hours=1))
    with pytest.raises(Conflict, match="already finished"):
        end_drill(session, drill_id=drill.id, now=stop + timedelta(hours=1))
    start_drill(session, days=3, now=stop + timedelta(hours=1))


def test_contacts_logged_during_a_drill_are_drill_contacts(session: Session, team: Team) -> None:
    drill = start_drill(session, days=2, now=MONDAY)
    config = get_config(session)
    during = log_contact(
        session,
        occurred_at=MONDAY + timedelta(days=1),
        channel="call",
        reason="approval",
        config=config,
        by=team.ana,
    )
    after = log_contact(
        session,
        occurred_at=MONDAY + timedelta(days=2),
        channel="call",
        reason="approval",
        config=config,
        by=team.ana,
    )
    assert (during.drill_id, after.drill_id) == (drill.id, None)


def test_status_shows_the_active_the_next_and_the_last_drill_with_counts(
    session: Session, team: Team
) -> None:
    config = get_config(session)
    last = start_drill(session, days=1, now=MONDAY - timedelta(days=10))
    active = start_drill(session, days=3, now=MONDAY)
    upcoming = start_drill(session, days=3, at=MONDAY + timedelta(days=20), now=MONDAY)
    for outcome, emergency in (
        ("refused", False),
        ("refused", False),
        ("interruption", True),
        ("deflection", False),
    ):
        log_contact(
            session,
            occurred_at=MONDAY + timedelta(hours=2),
            channel="in_app",
            reason="other",
            config=config,
            by=team.ana,
            outcome=outcome,
            emergency=emergency,
        )
    status = drill_status(session, now=MONDAY + timedelta(hours=5))
    assert status["active"]["id"] == active.id
    assert status["next"]["id"] == upcoming.id
    assert status["last"]["id"] == last.id
    assert status["active"]["counts"] == {
        "refused": 2,
        "emergencies": 1,
        "interruptions": 0,
        "deflections": 1,
    }
    assert status["active"]["review"] == {
        "items": 3,
        "disposed": 0,
        "open": 3,
        "drill_over": False,
        "review_complete": False,
    }
    assert status["warning"] is None
    assert status["days_since_last_drill"] == 0


def test_status_warns_when_no_drill_ran_in_the_last_31_days(
    session: Session, library: None
) -> None:
    status = drill_status(session, now=MONDAY)
    assert status["warning"] is not None
    assert "No owner-offline drill has run yet" in status["warning"]
    start_drill(session, days=3, now=MONDAY)
    assert drill_status(session, now=MONDAY + timedelta(days=31))["warning"] is None
    late = drill_status(session, now=MONDAY + timedelta(days=31, hours=1))
    assert late["warn_after_days"] == 31
    assert "in the last 31 days (the last started 31 days ago)" in late["warning"]
    assert late["last"]["review"]["review_complete"] is True  # nothing reached the owner


def test_the_warning_follows_the_cadence_setting(session: Session, library: None) -> None:
    set_setting(session, "drill_cadence_days", "weekly")
    start_drill(session, days=1, now=MONDAY)
    assert drill_status(session, now=MONDAY + timedelta(days=8, hours=1))["warning"]
    assert drill_status(session, now=MONDAY + timedelta(days=7))["warning"] is None


def test_a_cancelled_drill_does_not_count_as_run(session: Session, library: None) -> None:
    drill = start_drill(session, days=3, at=MONDAY + timedelta(days=1), now=MONDAY)
    end_drill(session, drill_id=drill.id, now=MONDAY)
    status = drill_status(session, now=MONDAY + timedelta(days=2))
    assert status["active"] is None
    assert status["warning"] is not None


def test_real_time_defaults_work(session: Session, library: None) -> None:
    drill = start_drill(session, days=1)
    assert drill.starts_at <= utcnow()
    assert drill_status(session)["active"]["id"] == drill.id
