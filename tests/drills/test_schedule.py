from __future__ import annotations

from datetime import UTC, datetime, timedelta

from franchise.drills.schedule import Window, cadence_warning

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_a_window_ended_early_stops_then_and_one_ended_before_it_began_is_cancelled() -> None:
    w = Window(1, T, T + 3 * DAY, T + DAY)
    assert (w.until, w.state(T + 2 * DAY)) == (T + DAY, "finished")
    assert Window(2, T, T + DAY, T - DAY).state(T) == "cancelled"
    assert not Window(2, T, T + DAY, T - DAY).overlaps(T, T + DAY)
    assert Window(3, T, T + DAY).state(T - DAY) == "scheduled"


def test_the_cadence_warning_allows_one_day_of_grace() -> None:
    drills = [Window(1, T, T + 3 * DAY)]
    assert cadence_warning(drills, T + 31 * DAY, 30) == (None, 31)
    warning, days = cadence_warning(drills, T + 31 * DAY + timedelta(seconds=1), 30)
    assert warning is not None
    assert days == 31
    assert cadence_warning(drills, T + DAY, 30) == (None, 0)
    assert cadence_warning([], T, 30)[1] is None
