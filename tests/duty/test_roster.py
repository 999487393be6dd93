"""Duty shifts: days, hours, overnight shifts, and their edges. Pure."""

from __future__ import annotations

from datetime import datetime

import pytest

from franchise.duty.roster import Cover, Shift, parse_days, parse_hours, week
from franchise.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "digits"),
    [("mon-fri", "01234"), ("sat,sun", "56"), ("daily", "0123456"), ("fri-mon", "0456")],
)
def test_days(text: str, digits: str) -> None:
    assert parse_days(text) == digits


def test_bad_days_and_hours_are_named() -> None:
    with pytest.raises(InvalidInput, match="unknown day 'funday'"):
        parse_days("mon,funday")
    with pytest.raises(InvalidInput, match="'25:00' is not a time"):
        parse_hours("08:00-25:00")
    with pytest.raises(InvalidInput, match="must look like 08:00-18:00"):
        parse_hours("8am")


# 2026-12-07 is a Monday.
WEEKDAY = Shift("01234", 8 * 60, 18 * 60)
NIGHT = Shift("01234", 18 * 60, 8 * 60)


@pytest.mark.parametrize(
    ("at", "day", "night"),
    [
        (datetime(2026, 12, 7, 7, 59), False, False),  # Monday before 08:00: Sunday night is off
        (datetime(2026, 12, 7, 8, 0), True, False),  # at the start
        (datetime(2026, 12, 7, 17, 59), True, False),
        (datetime(2026, 12, 7, 18, 0), False, True),  # at the end: the night shift takes over
        (datetime(2026, 12, 8, 7, 59), False, True),  # Tuesday morning: Monday's night shift
        (datetime(2026, 12, 12, 7, 0), False, True),  # Saturday morning: Friday's night shift
        (datetime(2026, 12, 12, 19, 0), False, False),  # Saturday evening: nobody
        (datetime(2026, 12, 13, 12, 0), False, False),  # Sunday
    ],
)
def test_shift_edges(at: datetime, day: bool, night: bool) -> None:
    assert WEEKDAY.covers(at) is day
    assert NIGHT.covers(at) is night


def test_all_day_shift() -> None:
    shift = Shift("56", 0, 0)
    assert shift.covers(datetime(2026, 12, 12, 0, 0))
    assert shift.covers(datetime(2026, 12, 13, 23, 59))
    assert not shift.covers(datetime(2026, 12, 14, 0, 0))


def test_the_week_lists_each_day_with_who_covers_which_hours() -> None:
    shifts = [
        ("owner", "Max", Shift("01234", 18 * 60, 8 * 60)),
        ("L2", "Kim", Shift("0123456", 0, 0)),
        ("L2", "Max", Shift("5", 9 * 60, 13 * 60)),
    ]
    days = dict(week(shifts))
    assert list(days) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert days["Mon"] == [Cover("L2", "Kim", "all day"), Cover("owner", "Max", "18:00-08:00")]
    # Saturday: Kim all day, then Max from 09:00; the overnight backup belongs to Friday.
    assert days["Sat"] == [Cover("L2", "Kim", "all day"), Cover("L2", "Max", "09:00-13:00")]
    assert days["Sun"] == [Cover("L2", "Kim", "all day")]
