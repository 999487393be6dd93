"""The KPI: owner interruptions per week. Pure: rows in, numbers out, one pass.

Definitions (they are the product's contract; tests hold them):

- Weeks are ISO weeks (Monday 00:00 to the next Monday 00:00) in the organisation's time
  zone, so a week across a DST change is 167 or 169 hours long.
- The report shows `weeks` weeks ending with the current week; the current week is counted
  to date and marked `complete: false`.
- An *interruption* is a contact whose outcome is `interruption`, whatever the channel
  (call, text, chat DM, e-mail, in person, emergency escalation, in-app ask that reached the
  owner). Deflections (answered by the system) and refusals (turned away during a drill) do
  not count; they are reported beside it.
- `after_hours` counts interruptions flagged out of business hours when they were logged;
  `owner_minutes` sums the minutes of interruptions.
- The four-week average is over the last four complete weeks before the current one (even
  when fewer weeks are shown); it is on target when it is at most `target_max`.
- Breakdowns (`by_reason`, `by_channel`, `by_technician`, `by_client`, `by_category`) count
  interruptions in the shown weeks, most first (ties by name). A contact with no staff
  member is "unknown"; with no ticket its client and category are "none"; a ticket with no
  client or category gives "none" / "uncategorised".
- `owner_wait_hours`: the hours, inside each week, that tickets spent waiting on the owner.
  A wait starts when a ticket's level changes to `owner` and ends at the ticket's next
  level or status change (or now, if none yet); a wait spanning weeks is split between
  them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from franchise.contacts.hours import local_midnight, week_start

AVERAGE_WEEKS = 4
BREAKDOWNS = ("reason", "channel", "technician", "client", "category")


@dataclass(frozen=True)
class ContactFact:
    """What the KPI needs of one owner contact, with its names already joined in."""

    occurred_at: datetime
    channel: str
    reason: str
    outcome: str
    minutes: int = 0
    after_hours: bool = False
    technician: str | None = None
    ticket_id: int | None = None
    client: str | None = None
    category: str | None = None

    def key(self, breakdown: str) -> str:
        if breakdown == "reason":
            return self.reason
        if breakdown == "channel":
            return self.channel
        if breakdown == "technician":
            return self.technician or "unknown"
        if self.ticket_id is None:
            return "none"
        if breakdown == "client":
            return self.client or "none"
        return self.category or "uncategorised"


@dataclass(frozen=True)
class OwnerWait:
    """A stretch of time one ticket waited on the owner; `end` None means still waiting."""

    ticket_id: int
    start: datetime
    end: datetime | None


def shown_weeks(now: datetime, tz: ZoneInfo, weeks: int) -> list[date]:
    current = week_start(now, tz)
    return [current - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def window_start(now: datetime, tz: ZoneInfo, weeks: int) -> datetime:
    """The first instant the report looks at (the shown weeks and the averaged weeks)."""
    back = max(weeks - 1, AVERAGE_WEEKS)
    return local_midnight(week_start(now, tz) - timedelta(weeks=back), tz)


@dataclass
class Tally:
    """What the report counts, before it is shaped: per week (shown and averaged weeks)
    interruptions, deflections, refused, after_hours and owner_minutes; per breakdown, the
    interruptions of the shown weeks and their minutes by key."""

    weekly: dict[date, Counter[str]]
    breakdowns: dict[str, Counter[str]]
    breakdown_minutes: dict[str, Counter[str]]


def report_weeks(now: datetime, tz: ZoneInfo, weeks: int) -> tuple[list[date], list[date]]:
    """(the shown weeks, the four complete weeks averaged), by their Monday."""
    current = week_start(now, tz)
    averaged = [current - timedelta(weeks=k) for k in range(AVERAGE_WEEKS, 0, -1)]
    return shown_weeks(now, tz, weeks), averaged


def empty_tally(now: datetime, tz: ZoneInfo, weeks: int) -> Tally:
    shown, averaged = report_weeks(now, tz, weeks)
    return Tally(
        weekly={w: Counter() for w in sorted({*shown, *averaged})},
        breakdowns={b: Counter() for b in BREAKDOWNS},
        breakdown_minutes={b: Counter() for b in BREAKDOWNS},
    )


def tally_contacts(
    contacts: Iterable[ContactFact], *, tz: ZoneInfo, now: datetime, weeks: int
) -> Tally:
    """The definition of the counts, one contact at a time. contacts.service counts the same
    with GROUP BY queries (thousands of contacts a week at scale); a test holds the two
    together."""
    tally = empty_tally(now, tz, weeks)
    shown_set = set(shown_weeks(now, tz, weeks))
    for contact in contacts:
        week = week_start(contact.occurred_at, tz)
        bucket = tally.weekly.get(week)
        if bucket is None:
            continue
        if contact.outcome != "interruption":
            bucket["deflections" if contact.outcome == "deflection" else "refused"] += 1
            continue
        bucket["interruptions"] += 1
        bucket["after_hours"] += contact.after_hours
        bucket["owner_minutes"] += contact.minutes
        if week in shown_set:
            for name in BREAKDOWNS:
                key = contact.key(name)
                tally.breakdowns[name][key] += 1
                tally.breakdown_minutes[name][key] += contact.minutes
    return tally


def kpi_from_tally(
    tally: Tally,
    *,
    tz: ZoneInfo,
    now: datetime,
    weeks: int,
    target_max: float,
    owner_waits: Iterable[OwnerWait] = (),
) -> dict[str, Any]:
    current = week_start(now, tz)
    shown, averaged = report_weeks(now, tz, weeks)
    counts = tally.weekly
    wait_hours = _wait_hours(owner_waits, shown, tz, now)
    average = sum(counts[w]["interruptions"] for w in averaged) / AVERAGE_WEEKS
    report: dict[str, Any] = {
        "timezone": tz.key,
        "target_max": target_max,
        "now": now.isoformat(),
        "weeks": [
            {
                "week_start": w.isoformat(),
                "complete": w != current,
                "interruptions": counts[w]["interruptions"],
                "deflections": counts[w]["deflections"],
                "refused": counts[w]["refused"],
                "after_hours": counts[w]["after_hours"],
                "owner_minutes": counts[w]["owner_minutes"],
                "owner_wait_hours": round(wait_hours[w], 2),
            }
            for w in shown
        ],
        "four_week_average": round(average, 2),
        "average_of": [w.isoformat() for w in averaged],
        "status": "on_target" if average <= target_max else "above_target",
    }
    for name in BREAKDOWNS:
        minutes = tally.breakdown_minutes[name]
        report[f"by_{name}"] = [
            {"name": key, "count": n, "minutes": minutes[key]}
            for key, n in sorted(tally.breakdowns[name].items(), key=lambda kv: (-kv[1], kv[0]))
        ]
    return report


def _wait_hours(
    waits: Iterable[OwnerWait], shown: list[date], tz: ZoneInfo, now: datetime
) -> dict[date, float]:
    bounds = [(w, local_midnight(w, tz), local_midnight(w + timedelta(weeks=1), tz)) for w in shown]
    hours = dict.fromkeys(shown, 0.0)
    now = now.astimezone(UTC)
    for wait in waits:
        # All in UTC: a difference between datetimes sharing a zone would ignore DST.
        start, end = wait.start.astimezone(UTC), min((wait.end or now).astimezone(UTC), now)
        for week, lo, hi in bounds:
            overlap = (min(end, hi) - max(start, lo)).total_seconds()
            if overlap > 0:
                hours[week] += overlap / 3600
    return hours


def owner_waits_from_events(
    events: Iterable[tuple[int, datetime, str | None, str | None]],
) -> list[OwnerWait]:
    """Waits from ticket history rows (ticket_id, at, field, new_value), sorted by ticket and time.

    A wait opens on a level change to owner and closes on the ticket's next level or status
    change at a later instant (the escalation usually sets status and level together).
    This is the definition; contacts.service.owner_waits computes the same in the database,
    and a test holds the two together.
    """
    waits: list[OwnerWait] = []
    open_ticket: int | None = None
    open_start: datetime | None = None
    for ticket_id, at, field, new_value in events:
        if open_ticket is not None and ticket_id != open_ticket:
            assert open_start is not None
            waits.append(OwnerWait(open_ticket, open_start, None))
            open_ticket = open_start = None
        if open_ticket is not None and open_start is not None and at > open_start:
            waits.append(OwnerWait(open_ticket, open_start, at))
            open_ticket = open_start = None
        if open_ticket is None and field == "level" and new_value == "owner":
            open_ticket, open_start = ticket_id, at
    if open_ticket is not None and open_start is not None:
        waits.append(OwnerWait(open_ticket, open_start, None))
    return waits
