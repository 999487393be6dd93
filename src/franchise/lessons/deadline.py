"""When a lesson is due. Pure: no database.

A lesson must be folded into its runbook before the ISO week it was captured in ends
(Monday 00:00 of the next week, in the organisation's time zone). A lesson asking for a new
runbook has the same week: by then the maintainer has written the runbook (a draft is enough
to fold it in) or rejected the request with a reason, so the request is never left to wait.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from franchise.contacts.hours import local_midnight, week_start


def lesson_deadline(created_at: datetime, tz: ZoneInfo) -> datetime:
    """The instant (UTC) the capture week ends: local midnight on the following Monday."""
    return local_midnight(week_start(created_at, tz) + timedelta(weeks=1), tz)


def is_overdue(state: str, created_at: datetime, now: datetime, tz: ZoneInfo) -> bool:
    """Still pending once its week has ended."""
    return state == "pending" and now >= lesson_deadline(created_at, tz)


def applied_on_time(applied_at: datetime | None, created_at: datetime, tz: ZoneInfo) -> bool:
    return applied_at is not None and applied_at < lesson_deadline(created_at, tz)
