"""When the client hears from us next: the default promise per priority, and its wording."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from franchise.errors import InvalidInput

# How soon a client is promised the next update when the technician does not say.
UPDATE_INTERVAL = {
    "critical": timedelta(hours=1),
    "high": timedelta(hours=2),
    "normal": timedelta(hours=4),
    "low": timedelta(days=1),
}
UNITS = {
    "m": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
}
RELATIVE = re.compile(r"^\+?\s*(\d+)\s*(m|min|h|d)$")


def default_next_update(priority: str, now: datetime) -> datetime:
    return now + UPDATE_INTERVAL.get(priority, UPDATE_INTERVAL["normal"])


def parse_next_update(text: str, now: datetime) -> datetime:
    """'+2h', '90m', '1d', or an ISO date-time ('2025-06-03T15:30', UTC unless it says)."""
    value = text.strip().lower()
    match = RELATIVE.match(value)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return now + amount * UNITS[unit]
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"next update '{text}' is not a time: use +2h, 90m, 1d or 2025-06-03T15:30"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def format_when(when: datetime, tz: tzinfo = UTC) -> str:
    """'Tuesday 3 June, 15:30 UTC': a day and time nobody can misread, zone included."""
    local = when.astimezone(tz)
    return f"{local:%A} {local.day} {local:%B}, {local:%H:%M} {local.tzname() or ''}".strip()
