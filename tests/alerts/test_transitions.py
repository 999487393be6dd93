"""The alert group's state rules (alerts/transitions.py), on plain objects: no database.

Parallel workers apply inbox items out of order, so each rule is tried with events applied
late, twice, and exactly at the time the group last changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from franchise.alerts import transitions

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@dataclass
class Group:
    status: str
    count: int
    first_seen: datetime
    last_seen: datetime
    status_at: datetime
    resolved_at: datetime | None


def firing(at: datetime = T0, count: int = 3) -> Group:
    return Group("firing", count, at - 10 * MINUTE, at, at, None)


def resolved(at: datetime = T0, count: int = 3) -> Group:
    return Group("resolved", count, at - 10 * MINUTE, at, at, at)


def test_a_new_group_starts_at_its_first_event() -> None:
    assert transitions.first_seen("firing", T0) == {
        "status": "firing",
        "count": 0,
        "first_seen": T0,
        "last_seen": T0,
        "status_at": T0,
        "resolved_at": None,
    }
    # First seen resolved: remembered as resolved then, so a late firing stays stale.
    assert transitions.first_seen("resolved", T0)["resolved_at"] == T0
    assert transitions.first_seen("resolved", T0)["status"] == "resolved"


def test_an_older_resolve_applied_late_never_closes_an_alert_that_fires_again() -> None:
    group = firing(T0)
    assert transitions.stale(group, "resolved", T0 - MINUTE) is True
    assert (group.status, group.count, group.status_at) == ("firing", 3, T0)


def test_a_late_firing_of_a_resolved_alert_is_counted_but_does_not_reopen_it() -> None:
    group = resolved(T0)
    assert transitions.stale(group, "firing", T0 - MINUTE) is True
    assert (group.status, group.count, group.resolved_at) == ("resolved", 4, T0)


def test_a_late_firing_of_a_firing_alert_is_an_ordinary_repeat() -> None:
    group = firing(T0)
    assert transitions.stale(group, "firing", T0 - MINUTE) is False
    assert group.count == 3  # counted by fire(), not here
    transitions.fire(group, T0 - MINUTE, opened=False)
    # Its time never moves the group's times backwards.
    assert (group.count, group.status_at, group.last_seen) == (4, T0, T0)


@pytest.mark.parametrize("status", ["firing", "resolved"])
def test_an_event_at_the_very_time_of_the_last_change_is_not_stale(status: str) -> None:
    for group in (firing(T0), resolved(T0)):
        assert transitions.stale(group, status, T0) is False
        assert group.count == 3


def test_nothing_is_stale_for_a_new_group_or_an_acknowledgement() -> None:
    assert transitions.stale(None, "resolved", T0) is False
    group = resolved(T0)
    assert transitions.stale(group, "acknowledged", T0 - MINUTE) is False
    assert group.count == 3


def test_firing_again_after_a_resolve() -> None:
    group = resolved(T0)
    transitions.fire(group, T0 + MINUTE, opened=False)
    assert (group.status, group.count, group.status_at, group.last_seen, group.resolved_at) == (
        "firing",
        4,
        T0 + MINUTE,
        T0 + MINUTE,
        None,
    )
    assert group.first_seen == T0 - 10 * MINUTE


def test_firing_that_opens_a_ticket_starts_the_count_and_first_sight_afresh() -> None:
    group = resolved(T0, count=9)
    transitions.fire(group, T0 + MINUTE, opened=True)
    assert (group.count, group.first_seen, group.status) == (1, T0 + MINUTE, "firing")


def test_a_resolve_closes_a_firing_group_at_its_own_time() -> None:
    group = firing(T0)
    assert transitions.resolve(group, T0 + MINUTE) is True
    assert (group.status, group.status_at, group.resolved_at, group.last_seen) == (
        "resolved",
        T0 + MINUTE,
        T0 + MINUTE,
        T0 + MINUTE,
    )
    assert group.count == 3


def test_a_duplicate_resolve_changes_only_when_it_was_last_heard_of() -> None:
    group = resolved(T0)
    assert transitions.resolve(group, T0 + 5 * MINUTE) is False
    assert (group.status_at, group.resolved_at, group.last_seen) == (T0, T0, T0 + 5 * MINUTE)
    # Applied again, earlier than the last word: nothing moves back.
    assert transitions.resolve(group, T0 - MINUTE) is False
    assert group.last_seen == T0 + 5 * MINUTE


def test_seen_only_moves_forward() -> None:
    group = firing(T0)
    transitions.seen(group, T0 - MINUTE)
    assert group.last_seen == T0
    transitions.seen(group, T0 + MINUTE)
    assert (group.last_seen, group.status_at, group.status) == (T0 + MINUTE, T0, "firing")


def test_a_notification_group_resolves_only_when_no_member_fires() -> None:
    members: dict[str, dict[str, str | None]] = {}
    assert transitions.record_member(members, "a", "firing", "Disk", "srv1", T0) == 1
    assert transitions.record_member(members, "b", "firing", "CPU", None, T0) == 2
    assert transitions.record_member(members, "a", "firing", "Disk", "srv1", T0) == 2
    assert transitions.record_member(members, "a", "resolved", "Disk", "srv1", T0 + MINUTE) == 1
    assert members["a"] == {
        "status": "resolved",
        "title": "Disk",
        "host": "srv1",
        "at": (T0 + MINUTE).isoformat(),
    }
    assert transitions.record_member(members, "a", "resolved", "Disk", "srv1", T0 + MINUTE) == 1
    assert transitions.record_member(members, "b", "resolved", "CPU", None, T0) == 0


def test_a_kept_count_of_firing_members_agrees_with_counting_them() -> None:
    """The bulk path keeps the count per group instead of counting thousands per alert."""
    counted: dict[str, dict[str, str | None]] = {}
    kept: dict[str, dict[str, str | None]] = {}
    firing = 0
    events = [
        ("a", "firing"),
        ("b", "firing"),
        ("a", "firing"),
        ("a", "resolved"),
        ("c", "resolved"),
        ("b", "resolved"),
        ("c", "firing"),
        ("b", "firing"),
        ("c", "resolved"),
    ]
    for n, (key, status) in enumerate(events):
        at = T0 + n * MINUTE
        expected = transitions.record_member(counted, key, status, "t", None, at)
        firing = transitions.record_member(kept, key, status, "t", None, at, firing)
        assert firing == expected == transitions.firing_members(counted)
    assert kept == counted


def test_a_members_late_event_is_stale_and_one_at_the_same_time_is_not() -> None:
    members = {"a": {"status": "resolved", "title": "Disk", "host": None, "at": T0.isoformat()}}
    assert transitions.member_stale(members, "a", T0 - timedelta(microseconds=1)) is True
    assert transitions.member_stale(members, "a", T0) is False
    assert transitions.member_stale(members, "a", T0 + MINUTE) is False
    assert transitions.member_stale(members, "b", T0 - MINUTE) is False
