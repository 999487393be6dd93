"""How one alert event changes its group's state: pure rules over the group's fields.

Both ways of applying alerts use them: one by one on ORM rows (`processing.py`) and in bulk
on planned groups (`bulk.py`). Parallel workers finish inbox items out of order, so an event
may be applied after a later one already changed its group: these rules keep a group's status
the one its latest event gave it, and its times from moving backwards.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class GroupState(Protocol):
    """The fields of an alert group these rules read and change."""

    status: str
    count: int
    first_seen: datetime
    last_seen: datetime
    status_at: datetime
    resolved_at: datetime | None


def first_seen(status: str, at: datetime) -> dict[str, Any]:
    """The state of a group its first event creates; one first seen resolved is resolved at
    that moment (and remembered, so a firing received earlier but applied later does not
    open a ticket for an alert that is over). Its count starts when a ticket is opened."""
    return {
        "status": status,
        "count": 0,
        "first_seen": at,
        "last_seen": at,
        "status_at": at,
        "resolved_at": at if status == "resolved" else None,
    }


def stale(group: GroupState | None, status: str, at: datetime) -> bool:
    """True when the event, received at `at`, is older than the one that last set the
    group's status, and so must not change it back: a late resolve never closes an alert
    that fires again, and a late firing of a resolved alert is only counted (done here).
    A late firing of an alert that fires still is a repeat like any other (False)."""
    if group is None or group.status_at <= at:
        return False
    if status == "firing":
        if group.status == "firing":
            return False
        group.count += 1
        return True
    return status == "resolved"


def fire(group: GroupState, at: datetime, *, opened: bool) -> None:
    """The group fires as of `at`. `opened`: the event opened a new ticket for it, whose
    count and first sight start here; otherwise it is one more of the same alert."""
    if opened:
        group.count = 1
        group.first_seen = at
    else:
        group.count += 1
    group.status = "firing"
    group.status_at = max(group.status_at, at)
    group.last_seen = max(group.last_seen, at)
    group.resolved_at = None


def resolve(group: GroupState, at: datetime) -> bool:
    """The group resolves as of `at`; False if it was resolved already (a duplicate, which
    moves only the time it was last heard of)."""
    seen(group, at)
    if group.status == "resolved":
        return False
    group.status = "resolved"
    group.status_at = at
    group.resolved_at = at
    return True


def seen(group: GroupState, at: datetime) -> None:
    """The monitoring tool spoke of the alert at `at` (an acknowledgement, a resolve)."""
    group.last_seen = max(group.last_seen, at)


def member_stale(members: dict[str, Any], key: str, at: datetime) -> bool:
    """For one alert of a notification group: received before the event that last set this
    alert's status (its `at`), so it must not set it back."""
    known = members.get(key)
    return known is not None and datetime.fromisoformat(known["at"]) > at


def record_member(
    members: dict[str, Any],
    key: str,
    status: str,
    title: str,
    host: str | None,
    at: datetime,
    firing: int | None = None,
) -> int:
    """Record one alert's status in its notification group's members; returns how many of
    them fire now (the group resolves only when none does). `firing`: how many fired before,
    when the caller keeps that count (a group of thousands is not counted per alert)."""
    if firing is None:
        firing = firing_members(members)
    known = members.get(key)
    if known is not None and known["status"] == "firing":
        firing -= 1
    members[key] = {"status": status, "title": title, "host": host, "at": at.isoformat()}
    return firing + (status == "firing")


def firing_members(members: dict[str, Any]) -> int:
    return sum(1 for m in members.values() if m["status"] == "firing")
