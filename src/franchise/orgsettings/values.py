"""Organisation setting values: their defaults, and parsing from what people type.

Pure: no database. Each parser takes what a user sent (CLI text, or JSON from the API)
and returns the canonical stored value, or raises InvalidInput naming the key and the
accepted form.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from franchise.errors import InvalidInput

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
_CADENCE_WORDS = {"weekly": 7, "fortnightly": 14, "monthly": 30, "quarterly": 91}


@dataclass(frozen=True)
class BusinessHours:
    """Days open (mon..sun) and the local opening span [start, end) in minutes after midnight."""

    days: tuple[str, ...]
    start_minute: int
    end_minute: int

    @property
    def start(self) -> str:
        return _hhmm(self.start_minute)

    @property
    def end(self) -> str:
        return _hhmm(self.end_minute)

    def to_value(self) -> dict[str, Any]:
        return {"days": list(self.days), "start": self.start, "end": self.end}

    def describe(self) -> str:
        return f"{_days_text(self.days)} {self.start}-{self.end}"


DEFAULT_BUSINESS_HOURS = BusinessHours(("mon", "tue", "wed", "thu", "fri"), 8 * 60, 18 * 60)


@dataclass(frozen=True)
class OrgConfig:
    timezone: str = "UTC"
    business_hours: BusinessHours = DEFAULT_BUSINESS_HOURS
    kpi_target_max: int = 2
    drill_days: int = 3
    drill_cadence_days: int = 30
    currency: str = "USD"
    org_name: str = "Your MSP"
    auto_send_resolved_message: bool = False
    # Outage correlation: this many new alert groups of one client (or one `site` label)
    # within the window open one outage ticket; 0 turns it off. Clients may override both.
    outage_alert_groups: int = 5
    outage_window_minutes: int = 10
    # Who must sign in with a second factor: off | managers (owner, admin) | everyone.
    require_mfa: str = "managers"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def to_dict(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "business_hours": self.business_hours.to_value(),
            "kpi_target_max": self.kpi_target_max,
            "drill_days": self.drill_days,
            "drill_cadence_days": self.drill_cadence_days,
            "currency": self.currency,
            "org_name": self.org_name,
            "auto_send_resolved_message": self.auto_send_resolved_message,
            "outage_alert_groups": self.outage_alert_groups,
            "outage_window_minutes": self.outage_window_minutes,
            "require_mfa": self.require_mfa,
        }


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _days_text(days: tuple[str, ...]) -> str:
    """Consecutive runs as ranges: (mon..fri) -> 'mon-fri', (mon, wed) -> 'mon,wed'."""
    indexes = sorted(DAYS.index(d) for d in days)
    parts: list[str] = []
    run_start = prev = indexes[0]
    for i in [*indexes[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        parts.append(DAYS[run_start] if run_start == prev else f"{DAYS[run_start]}-{DAYS[prev]}")
        if i is not None:
            run_start = prev = i
    return ",".join(parts)


def _fail(key: str, form: str, got: object) -> InvalidInput:
    return InvalidInput(f"setting '{key}': {got!r} is not valid; use {form}")


def parse_timezone(raw: object) -> str:
    form = "an IANA time zone name such as Europe/Berlin or America/New_York"
    text = str(raw).strip() if isinstance(raw, str) else ""
    if not text:
        raise _fail("timezone", form, raw)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail("timezone", form, raw) from None
    return text


BUSINESS_HOURS_FORM = (
    "days and hours such as 'mon-fri 08:00-18:00' or 'mon,wed,fri 09:00-17:30' "
    '(or JSON {"days": ["mon", ...], "start": "08:00", "end": "18:00"}); '
    "the end must be after the start"
)


def parse_business_hours(raw: object) -> BusinessHours:
    if isinstance(raw, dict):
        days_raw, start_raw, end_raw = raw.get("days"), raw.get("start"), raw.get("end")
        if not isinstance(days_raw, list) or not all(isinstance(d, str) for d in days_raw):
            raise _fail("business_hours", BUSINESS_HOURS_FORM, raw)
        days = _parse_day_list(",".join(days_raw), raw)
    elif isinstance(raw, str):
        parts = raw.strip().lower().split()
        if len(parts) != 2 or parts[1].count("-") != 1:
            raise _fail("business_hours", BUSINESS_HOURS_FORM, raw)
        days = _parse_day_list(parts[0], raw)
        start_raw, end_raw = parts[1].split("-")
    else:
        raise _fail("business_hours", BUSINESS_HOURS_FORM, raw)
    start, end = _minute(start_raw, raw), _minute(end_raw, raw)
    if end <= start or start >= 24 * 60:
        raise _fail("business_hours", BUSINESS_HOURS_FORM, raw)
    return BusinessHours(days, start, end)


def _parse_day_list(text: str, raw: object) -> tuple[str, ...]:
    chosen: set[int] = set()
    for item in text.lower().split(","):
        item = item.strip()
        ends = item.split("-")
        if not item or len(ends) > 2 or any(e not in DAYS for e in ends):
            raise _fail("business_hours", BUSINESS_HOURS_FORM, raw)
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        # A range may wrap the week end: "sat-mon" is sat, sun, mon.
        span = (last - first) % 7
        chosen.update((first + k) % 7 for k in range(span + 1))
    return tuple(DAYS[i] for i in sorted(chosen))


def _minute(value: object, raw: object) -> int:
    match = _TIME.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise _fail("business_hours", BUSINESS_HOURS_FORM, raw)
    minute = int(match.group(1)) * 60 + int(match.group(2))
    if minute > 24 * 60:
        raise _fail("business_hours", BUSINESS_HOURS_FORM, raw)
    return minute


def _int_parser(
    key: str, low: int, high: int, words: dict[str, int] | None = None
) -> Callable[[object], int]:
    form = f"a whole number from {low} to {high}"
    if words:
        form += " or one of " + ", ".join(words)

    def parse(raw: object) -> int:
        if isinstance(raw, bool):
            raise _fail(key, form, raw)
        if isinstance(raw, int):
            value = raw
        elif isinstance(raw, str) and raw.strip().lower() in (words or {}):
            value = (words or {})[raw.strip().lower()]
        elif isinstance(raw, str) and raw.strip().isdecimal():
            value = int(raw.strip())
        else:
            raise _fail(key, form, raw)
        if not low <= value <= high:
            raise _fail(key, form, raw)
        return value

    return parse


def parse_currency(raw: object) -> str:
    text = raw.strip().upper() if isinstance(raw, str) else ""
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise _fail("currency", "a three-letter ISO 4217 code such as USD, EUR or GBP", raw)
    return text


def parse_org_name(raw: object) -> str:
    text = raw.strip() if isinstance(raw, str) else ""
    if not text or len(text) > 200:
        raise _fail("org_name", "a name of 1 to 200 characters", raw)
    return text


_ON = ("on", "true", "yes", "1")
_OFF = ("off", "false", "no", "0")


def _switch_parser(key: str) -> Callable[[object], bool]:
    def parse(raw: object) -> bool:
        if isinstance(raw, bool):
            return raw
        text = raw.strip().lower() if isinstance(raw, str) else ""
        if text in _ON or text in _OFF:
            return text in _ON
        raise _fail(key, "on or off (also true/false, yes/no, 1/0)", raw)

    return parse


def parse_require_mfa(raw: object) -> str:
    text = raw.strip().lower() if isinstance(raw, str) else ""
    if text not in ("off", "managers", "everyone"):
        raise _fail("require_mfa", "off, managers (owner and admin) or everyone", raw)
    return text


PARSERS: dict[str, Callable[[object], Any]] = {
    "timezone": parse_timezone,
    "business_hours": parse_business_hours,
    "kpi_target_max": _int_parser("kpi_target_max", 0, 1000),
    "drill_days": _int_parser("drill_days", 1, 30),
    "drill_cadence_days": _int_parser("drill_cadence_days", 1, 365, _CADENCE_WORDS),
    "currency": parse_currency,
    "org_name": parse_org_name,
    "auto_send_resolved_message": _switch_parser("auto_send_resolved_message"),
    "outage_alert_groups": _int_parser("outage_alert_groups", 0, 10_000),
    "outage_window_minutes": _int_parser("outage_window_minutes", 1, 1440),
    "require_mfa": parse_require_mfa,
}
KEYS = tuple(PARSERS)


def parse_value(key: str, raw: object) -> Any:
    """Validate a raw value for a key; returns what OrgConfig holds for it."""
    parser = PARSERS.get(key)
    if parser is None:
        raise InvalidInput(f"unknown setting '{key}' (use {', '.join(KEYS)})")
    return parser(raw)


def stored_form(value: Any) -> Any:
    """The JSON-friendly form of a parsed value."""
    return value.to_value() if isinstance(value, BusinessHours) else value
