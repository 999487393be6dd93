"""Local-time rules: business hours and ISO weeks in the organisation's time zone. Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from franchise.orgsettings.values import DAYS, BusinessHours


def is_after_hours(when: datetime, hours: BusinessHours, tz: ZoneInfo) -> bool:
    """Out of business hours in local time: open days, start inclusive, end exclusive."""
    if when.tzinfo is None:
        raise ValueError("naive datetime given; use an aware datetime")
    local = when.astimezone(tz)
    if DAYS[local.weekday()] not in hours.days:
        return True
    minute = local.hour * 60 + local.minute
    return not hours.start_minute <= minute < hours.end_minute


def week_start(when: datetime, tz: ZoneInfo) -> date:
    """The Monday of the local ISO week `when` falls in."""
    local = when.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The instant (in UTC) a local day begins; weeks across a DST change are 167 or 169 hours.

    In UTC because subtracting two datetimes that share a tzinfo ignores the DST change.
    """
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def as_aware(value: datetime, tz: ZoneInfo) -> datetime:
    """A naive time is read as local time in the organisation's zone."""
    return value.replace(tzinfo=tz) if value.tzinfo is None else value
