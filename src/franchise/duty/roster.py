"""Reading and matching duty shifts. Pure: no database, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from franchise.errors import InvalidInput

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Shift:
    days: str  # weekday digits, Monday=0
    start: int  # minutes after local midnight
    end: int

    def covers(self, local: datetime) -> bool:
        """Whether the shift holds at a local time; an overnight shift belongs to the day
        it starts on."""
        minute = local.hour * 60 + local.minute
        today = str(local.weekday())
        if self.start < self.end:
            return today in self.days and self.start <= minute < self.end
        if self.start == self.end:
            return today in self.days  # all day
        yesterday = str((local.weekday() - 1) % 7)
        return (today in self.days and minute >= self.start) or (
            yesterday in self.days and minute < self.end
        )

    def describe(self) -> str:
        return f"{days_text(self.days)} {clock(self.start)}-{clock(self.end)}"


def parse_days(text: str) -> str:
    """'mon-fri', 'sat,sun', 'daily' -> weekday digits."""
    value = text.strip().lower()
    if value in ("daily", "every day", "all"):
        return "0123456"
    digits: set[int] = set()
    for part in value.split(","):
        part = part.strip()
        if "-" in part:
            first, _, last = part.partition("-")
            a, b = _day(first), _day(last)
            span = range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)]
            digits.update(span)
        elif part:
            digits.add(_day(part))
    if not digits:
        raise InvalidInput(f"no days in '{text}' (use e.g. mon-fri, sat,sun or daily)")
    return "".join(str(d) for d in sorted(digits))


def _day(name: str) -> int:
    key = name.strip()[:3]
    if key not in DAY_NAMES:
        raise InvalidInput(f"unknown day '{name}' (use {', '.join(DAY_NAMES)})")
    return DAY_NAMES.index(key)


def parse_hours(text: str) -> tuple[int, int]:
    """'08:00-18:00' -> (480, 1080); '00:00-00:00' is all day."""
    first, sep, last = text.strip().partition("-")
    if not sep:
        raise InvalidInput(f"hours '{text}' must look like 08:00-18:00")
    return _minute(first), _minute(last)


def _minute(text: str) -> int:
    match = _TIME.match(text.strip())
    if match is None:
        raise InvalidInput(f"'{text}' is not a time like 08:00")
    return int(match.group(1)) * 60 + int(match.group(2))


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def days_text(days: str) -> str:
    if days == "0123456":
        return "daily"
    if days == "01234":
        return "mon-fri"
    return ",".join(DAY_NAMES[int(d)] for d in days)


LEVEL_NAMES = {"L1": "L1", "L2": "L2", "owner": "Owner's backup"}


@dataclass(frozen=True)
class Cover:
    """One person's hours at a level on one weekday, as the week grid shows it."""

    level: str
    name: str
    hours: str


def week(shifts: list[tuple[str, str, Shift]]) -> list[tuple[str, list[Cover]]]:
    """(level, name, shift) rows as a week, Monday first: each day with who covers which
    hours (an overnight shift is listed on the day it starts), earliest first."""
    days: list[tuple[str, list[Cover]]] = []
    for number, name in enumerate(DAY_NAMES):
        covers = sorted(
            (
                (shift.start, Cover(level, who, hours_text(shift)))
                for level, who, shift in shifts
                if str(number) in shift.days
            ),
            key=lambda row: (row[1].level, row[0], row[1].name),
        )
        days.append((name.capitalize(), [c for _, c in covers]))
    return days


def hours_text(shift: Shift) -> str:
    return "all day" if shift.start == shift.end else f"{clock(shift.start)}-{clock(shift.end)}"
