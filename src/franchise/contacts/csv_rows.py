"""Reading an owner-contact CSV: header check and per-row parsing. Pure (text in).

Line numbers are physical lines in the file, the header being line 1, so a user can jump
straight to the bad row in an editor even when a quoted field spans lines.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from franchise.contacts.hours import as_aware
from franchise.contacts.models import CHANNELS, OUTCOMES, REASONS
from franchise.errors import InvalidInput

COLUMNS = ("occurred_at", "channel", "ticket", "by", "reason", "minutes", "emergency")
OPTIONAL_COLUMNS = ("outcome",)
MAX_MINUTES = 24 * 60
_YES = {"yes", "true", "1", "y"}
_NO = {"no", "false", "0", "n", ""}


@dataclass(frozen=True)
class ContactRow:
    line: int
    occurred_at: datetime
    channel: str
    ticket: str | None
    by: str | None
    reason: str
    minutes: int
    emergency: bool
    outcome: str


class RowError(ValueError):
    """A bad value in one row; the message says which column and what is accepted."""


def read_rows(text: str, tz: ZoneInfo) -> Iterator[ContactRow | tuple[int, str]]:
    """Each data row parsed, or (line, message) when it is bad. A bad header raises at once."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    names = [h.strip().lower() for h in header or []]
    missing = [c for c in COLUMNS if c not in names]
    unknown = [n for n in names if n not in COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown or len(set(names)) != len(names):
        raise InvalidInput(
            "line 1: the header must be "
            f"{','.join(COLUMNS)} (optionally {','.join(OPTIONAL_COLUMNS)})"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(unknown)}" if unknown else "")
        )
    end_of_previous = reader.line_num
    for record in reader:
        line, end_of_previous = end_of_previous + 1, reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(names):
            yield line, f"expected {len(names)} columns, found {len(record)}"
            continue
        try:
            yield _parse(line, dict(zip(names, (c.strip() for c in record), strict=True)), tz)
        except RowError as exc:
            yield line, str(exc)


def _parse(line: int, cells: dict[str, str], tz: ZoneInfo) -> ContactRow:
    return ContactRow(
        line=line,
        occurred_at=_when(cells["occurred_at"], tz),
        channel=_choice(cells["channel"], CHANNELS, "channel"),
        ticket=cells["ticket"].lstrip("#") or None,
        by=cells["by"] or None,
        reason=_choice(cells["reason"], REASONS, "reason"),
        minutes=_minutes(cells["minutes"]),
        emergency=_flag(cells["emergency"]),
        outcome=_choice(cells.get("outcome") or "interruption", OUTCOMES, "outcome"),
    )


def _when(value: str, tz: ZoneInfo) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RowError(
            f"occurred_at '{value}' is not an ISO 8601 time (e.g. 2026-03-02T09:15 or "
            "2026-03-02T09:15:00+01:00)"
        ) from None
    return as_aware(parsed, tz)


def _choice(value: str, allowed: tuple[str, ...], column: str) -> str:
    if value.lower() not in allowed:
        raise RowError(f"{column} '{value}' is not one of {', '.join(allowed)}")
    return value.lower()


def _minutes(value: str) -> int:
    if value == "":
        return 0
    if not value.isdecimal() or int(value) > MAX_MINUTES:
        raise RowError(f"minutes '{value}' is not a whole number from 0 to {MAX_MINUTES}")
    return int(value)


def _flag(value: str) -> bool:
    text = value.lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise RowError(f"emergency '{value}' is not yes/no/true/false/1/0 or empty")
