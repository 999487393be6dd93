"""Drill windows and the cadence warning. Pure: no database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Window:
    id: int
    starts_at: datetime
    ends_at: datetime
    ended_at: datetime | None = None

    @property
    def until(self) -> datetime:
        """When the drill stops: its planned end, or earlier when someone ended it."""
        return min(self.ends_at, self.ended_at) if self.ended_at else self.ends_at

    @property
    def cancelled(self) -> bool:
        """Ended before it began: it never ran."""
        return self.until <= self.starts_at

    def state(self, now: datetime) -> str:
        if self.cancelled:
            return "cancelled"
        if now < self.starts_at:
            return "scheduled"
        if now < self.until:
            return "active"
        return "finished"

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return not self.cancelled and self.starts_at < end and start < self.until


def cadence_limit(cadence_days: int) -> int:
    """Days without a drill before the status warns: the cadence plus a day's grace
    (monthly, 30 days, warns after 31), so a drill on the same date each month never warns."""
    return cadence_days + 1


def cadence_warning(
    windows: Sequence[Window], now: datetime, cadence_days: int
) -> tuple[str | None, int | None]:
    """(warning or None, whole days since the last drill started, None if none ever ran)."""
    started = [w for w in windows if not w.cancelled and w.starts_at <= now]
    limit = cadence_limit(cadence_days)
    if not started:
        return "No owner-offline drill has run yet; start one with `franchise drill start`.", None
    latest = max(started, key=lambda w: w.starts_at)
    if latest.until > now:
        return None, 0
    days = (now - latest.starts_at) // timedelta(days=1)
    if now - latest.starts_at > timedelta(days=limit):
        return (
            f"No owner-offline drill in the last {limit} days (the last started {days} days "
            "ago); start one with `franchise drill start`.",
            days,
        )
    return None, days
