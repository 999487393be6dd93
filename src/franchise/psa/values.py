"""Reading PSA values: priorities, statuses and dates as the exports write them. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo


class BadValue(ValueError):
    """A value the import cannot read; the message names the column and what is accepted."""


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


# ConnectWise "Priority 1 - Emergency Response", Halo "2 - High", Autotask "P3", "Sev 1".
_PRIORITY_NUMBER = re.compile(r"^(?:p|priority|sev|severity)?\s*([1-5])\b")
_PRIORITY_WORDS = (
    ("critical", ("critical", "emergency", "urgent")),
    ("high", ("high", "quick")),
    ("normal", ("medium", "normal", "moderate", "standard")),
    ("low", ("low", "planning", "schedule", "scheduled", "next time", "do not respond")),
)
_PRIORITY_BY_NUMBER = {"1": "critical", "2": "high", "3": "normal", "4": "low", "5": "low"}

# Checked in order: "Waiting Customer" must not fall through to a generic "waiting".
_STATUS_WORDS = (
    ("closed", ("closed", "cancelled", "canceled", "cancel")),
    ("resolved", ("resolved", "complete", "completed", "fixed", "done")),
    (
        "waiting_on_client",
        (
            "waiting customer",
            "waiting on customer",
            "waiting client",
            "waiting on client",
            "waiting user",
            "waiting on user",
            "waiting for customer",
            "waiting for user",
            "awaiting customer",
            "awaiting client",
            "awaiting user",
            "with user",
            "with customer",
            "customer reply",
            "pending customer",
        ),
    ),
    ("waiting_on_approval", ("approval",)),
    ("ready_to_resolve", ("ready to resolve", "pending close", "pending closure")),
    ("escalated", ("escalate", "escalated", "escalation")),
    (
        "in_progress",
        (
            "in progress",
            "assigned",
            "scheduled",
            "working",
            "responded",
            "action required",
            "customer updated",
            "customer note added",
            "waiting vendor",
            "waiting materials",
            "waiting parts",
            "waiting third party",
            "on hold",
            "pending",
            "acknowledged",
        ),
    ),
    ("new", ("new", "open", "opened", "unassigned", "re opened", "reopened", "logged")),
)


def _has(text: str, phrase: str) -> bool:
    return f" {phrase} " in f" {text} "


def _lookup(value: str, table: Mapping[str, str]) -> str | None:
    wanted = _norm(value)
    for key, mapped in table.items():
        if _norm(key) == wanted:
            return mapped
    return None


def read_priority(value: str, extra: Mapping[str, str]) -> str:
    """Our priority for a PSA priority; the mapping file's map wins; empty is normal."""
    if not value.strip():
        return "normal"
    mapped = _lookup(value, extra)
    if mapped is not None:
        return mapped
    text = _norm(value)
    number = _PRIORITY_NUMBER.match(text)
    if number:
        return _PRIORITY_BY_NUMBER[number.group(1)]
    for priority, words in _PRIORITY_WORDS:
        if any(_has(text, w) for w in words):
            return priority
    raise BadValue(
        f"priority '{value}' is not known; map it in a mapping file "
        "(priority: {'<value>': low|normal|high|critical})"
    )


def read_status(value: str, extra: Mapping[str, str]) -> str:
    """Our status for a PSA status; the mapping file's map wins; empty is new."""
    if not value.strip():
        return "new"
    mapped = _lookup(value, extra)
    if mapped is not None:
        return mapped
    text = _norm(value)
    for status, words in _STATUS_WORDS:
        if any(_has(text, w) for w in words):
            return status
    raise BadValue(
        f"status '{value}' is not known; map it in a mapping file "
        "(status: {'<value>': new|in_progress|waiting_on_client|...})"
    )


_SLASHED = re.compile(
    r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?)?$"
)


def read_date(value: str, *, order: str, fmt: str | None, tz: ZoneInfo) -> datetime | None:
    """An aware time from ISO 8601, the given strptime format, or d/m/y or m/d/y
    (with an optional 12- or 24-hour time). A time without an offset is local time."""
    text = value.strip()
    if not text:
        return None
    parsed = _iso(text)
    if parsed is None and fmt:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            raise BadValue(
                f"date '{value}' does not match the mapping file's date_format '{fmt}'"
            ) from None
    if parsed is None:
        parsed = _slashed(text, order)
    if parsed is None:
        example = "11/24/2026 9:15 AM" if order == "mdy" else "24/11/2026 09:15"
        raise BadValue(
            f"date '{value}' is not a date (use ISO 8601 such as 2026-11-24T09:15 or {example})"
        )
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed


def _iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _slashed(text: str, order: str) -> datetime | None:
    match = _SLASHED.match(text)
    if match is None:
        return None
    first, second, year, hour, minute, second_s, ampm = match.groups()
    month, day = (int(first), int(second)) if order == "mdy" else (int(second), int(first))
    h = int(hour or 0)
    if ampm:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if ampm.lower().startswith("p") else 0)
    try:
        return datetime(int(year), month, day, h, int(minute or 0), int(second_s or 0))
    except ValueError:
        return None
