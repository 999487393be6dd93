"""Calendar arithmetic for the demo: weeks, business hours, realistic times of day.

The demo MSP keeps office hours 08:00-18:00 Monday to Friday in UTC (a UK business in
winter), which is also what "after hours" means for owner contacts.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

WEEK = timedelta(days=7)
OPEN_HOUR, CLOSE_HOUR = 8, 18
# People raise tickets mostly in the morning and right after lunch.
HOUR_WEIGHTS = (9, 10, 9, 7, 5, 8, 7, 6, 4, 2)  # 08:00 ... 17:00
# Monday carries the weekend's backlog; weekends only see the odd keen user.
DAY_WEIGHTS = (13, 10, 10, 9, 8, 1, 1)


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 UTC of the week containing `moment`."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def complete_weeks(now: datetime, count: int) -> tuple[datetime, ...]:
    """Starts of the `count` complete weeks before the week of `now`, oldest first."""
    current = week_start(now)
    return tuple(current - WEEK * (count - i) for i in range(count))


def is_after_hours(moment: datetime) -> bool:
    return moment.weekday() >= 5 or not OPEN_HOUR <= moment.hour < CLOSE_HOUR


def office_time(rng: random.Random, day: datetime) -> datetime:
    """A time during office hours on `day` (a midnight), weighted like real ticket traffic."""
    hour = rng.choices(range(OPEN_HOUR, CLOSE_HOUR), weights=HOUR_WEIGHTS)[0]
    return day + timedelta(hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))


def any_time(rng: random.Random, start: datetime, length: timedelta) -> datetime:
    """A uniformly random second in [start, start + length): alerts do not keep hours."""
    return start + timedelta(seconds=rng.randrange(int(length.total_seconds())))


def office_day(rng: random.Random, week: datetime) -> datetime:
    return week + timedelta(days=rng.choices(range(7), weights=DAY_WEIGHTS)[0])


def evening_time(rng: random.Random, week: datetime) -> datetime:
    """An out-of-hours moment someone might still text the owner: evenings and weekends."""
    day = week + timedelta(days=rng.randrange(7))
    if day.weekday() >= 5:
        return day + timedelta(hours=rng.randint(9, 20), minutes=rng.randrange(60))
    hour = rng.choice((6, 7, 18, 19, 20, 21, 22))
    return day + timedelta(hours=hour, minutes=rng.randrange(60))


def next_office_moment(rng: random.Random, moment: datetime) -> datetime:
    """`moment` itself in office hours, else shortly after the office next opens."""
    if not is_after_hours(moment):
        return moment
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if moment.hour >= CLOSE_HOUR or moment.weekday() >= 5:
        day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day + timedelta(hours=OPEN_HOUR, minutes=rng.randint(5, 40))


def some_minutes(rng: random.Random, low: float, high: float) -> timedelta:
    """Between `low` and `high` minutes, spread evenly over orders of magnitude: most work
    is quick and a few items drag on. Whole seconds, as a ticket system would show."""
    return timedelta(seconds=round(60 * math.exp(rng.uniform(math.log(low), math.log(high)))))


def share_of(span: timedelta, share: float) -> timedelta:
    return timedelta(seconds=round(span.total_seconds() * share))
