"""After-hours classification in the organisation's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from franchise.contacts.hours import is_after_hours, local_midnight, week_start
from franchise.orgsettings.values import DEFAULT_BUSINESS_HOURS, parse_business_hours

BERLIN = ZoneInfo("Europe/Berlin")
LA = ZoneInfo("America/Los_Angeles")


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("when", "after"),
    [
        (berlin(2026, 3, 7, 10, 0), True),  # Saturday, mid-morning
        (berlin(2026, 3, 8, 12, 0), True),  # Sunday noon
        (berlin(2026, 3, 2, 7, 59), True),  # Monday, one minute before opening
        (berlin(2026, 3, 2, 8, 0), False),  # exactly at opening: open
        (berlin(2026, 3, 2, 17, 59), False),  # last minute open
        (berlin(2026, 3, 2, 18, 0), True),  # exactly at closing: closed
        (berlin(2026, 3, 6, 23, 30), True),  # Friday night
    ],
)
def test_business_hours_boundaries_in_local_time(when: datetime, after: bool) -> None:
    assert is_after_hours(when, DEFAULT_BUSINESS_HOURS, BERLIN) is after


def test_it_uses_the_org_zone_not_utc() -> None:
    # 07:30Z is 08:30 in Berlin (CET, +1): open, though 07:30 would be closed in UTC.
    assert (
        is_after_hours(datetime(2026, 3, 2, 7, 30, tzinfo=UTC), DEFAULT_BUSINESS_HOURS, BERLIN)
        is False
    )
    # 17:30Z is 18:30 in Berlin: closed, though open in UTC.
    assert (
        is_after_hours(datetime(2026, 3, 2, 17, 30, tzinfo=UTC), DEFAULT_BUSINESS_HOURS, BERLIN)
        is True
    )
    # Friday 17:30 PST (-8) is Saturday 01:30Z: still Friday business hours in Los Angeles.
    assert (
        is_after_hours(datetime(2026, 3, 7, 1, 30, tzinfo=UTC), DEFAULT_BUSINESS_HOURS, LA) is False
    )


def test_custom_days_and_hours() -> None:
    hours = parse_business_hours("sat-mon 10:00-14:00")  # wraps the week end: sat, sun, mon
    assert hours.days == ("mon", "sat", "sun")
    assert is_after_hours(berlin(2026, 3, 7, 10, 0), hours, BERLIN) is False  # Saturday 10:00
    assert is_after_hours(berlin(2026, 3, 3, 11, 0), hours, BERLIN) is True  # Tuesday


def test_week_starts_monday_local_and_dst_week_is_167_hours() -> None:
    # Sunday 2026-03-29 03:00 CEST, just after the clocks went forward, is still week 03-23.
    assert week_start(berlin(2026, 3, 29, 3, 0), BERLIN).isoformat() == "2026-03-23"
    start = local_midnight(week_start(berlin(2026, 3, 25, 12, 0), BERLIN), BERLIN)
    end = local_midnight(week_start(berlin(2026, 3, 30, 0, 0), BERLIN), BERLIN)
    assert (end - start).total_seconds() / 3600 == 167


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        is_after_hours(datetime(2026, 3, 2, 9, 0), DEFAULT_BUSINESS_HOURS, BERLIN)


def test_a_naive_time_is_read_in_the_org_zone_and_an_aware_one_is_kept() -> None:
    from franchise.contacts.hours import as_aware

    auckland = ZoneInfo("Pacific/Auckland")
    naive = datetime(2026, 2, 16, 9, 0)
    assert as_aware(naive, auckland) == datetime(2026, 2, 15, 20, 0, tzinfo=UTC)
    aware = datetime(2026, 2, 16, 9, 0, tzinfo=UTC)
    assert as_aware(aware, auckland) is aware


def test_a_naive_time_is_refused_for_business_hours() -> None:
    with pytest.raises(ValueError, match=r"^naive datetime given; use an aware datetime$"):
        is_after_hours(datetime(2026, 2, 16, 9, 0), DEFAULT_BUSINESS_HOURS, ZoneInfo("UTC"))
