"""The KPI over plain rows: every expected number is worked out by hand in the comments."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from franchise.contacts.hours import local_midnight
from franchise.contacts.kpi import (
    ContactFact,
    OwnerWait,
    kpi_from_tally,
    owner_waits_from_events,
    tally_contacts,
    window_start,
)

AUCKLAND = ZoneInfo("Pacific/Auckland")
LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")


def compute_kpi(
    contacts: Iterable[ContactFact],
    *,
    tz: ZoneInfo,
    now: datetime,
    weeks: int = 8,
    target_max: float,
    owner_waits: Iterable[OwnerWait] = (),
) -> dict[str, Any]:
    """The report from contacts counted one at a time (the counts' definition)."""
    tally = tally_contacts(contacts, tz=tz, now=now, weeks=weeks)
    return kpi_from_tally(
        tally, tz=tz, now=now, weeks=weeks, target_max=target_max, owner_waits=owner_waits
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def hit(at: datetime, outcome: str = "interruption", **kw: Any) -> ContactFact:
    fields: dict[str, Any] = {"channel": "call", "reason": "approval", **kw}
    return ContactFact(occurred_at=at, outcome=outcome, **fields)


def weekly(report: dict[str, Any], field: str = "interruptions") -> dict[str, int]:
    return {w["week_start"]: w[field] for w in report["weeks"]}


def test_auckland_sunday_night_and_monday_morning_fall_in_local_weeks() -> None:
    # Auckland is UTC+13 (NZDT) in February.
    contacts = [
        hit(utc(2026, 2, 8, 11, 10)),  # Mon 2026-02-09 00:10 local (UTC: Sun 02-08) -> 02-09
        hit(utc(2026, 2, 15, 10, 30)),  # Sun 2026-02-15 23:30 local -> week of 02-09
        hit(utc(2026, 2, 15, 11, 10)),  # Mon 2026-02-16 00:10 local (UTC: still Sun) -> 02-16
    ]
    now = datetime(2026, 2, 18, 12, 0, tzinfo=AUCKLAND)  # Wednesday of week 02-16
    report = compute_kpi(contacts, tz=AUCKLAND, now=now, weeks=3, target_max=2)
    # Bucketed in UTC this would be 02-02: 1, 02-09: 2, 02-16: 0.
    assert weekly(report) == {"2026-02-02": 0, "2026-02-09": 2, "2026-02-16": 1}
    assert [w["complete"] for w in report["weeks"]] == [True, True, False]
    assert report["timezone"] == "Pacific/Auckland"


def test_los_angeles_sunday_night_and_monday_morning_fall_in_local_weeks() -> None:
    # Los Angeles is UTC-8 (PST) in February.
    contacts = [
        hit(utc(2026, 2, 9, 6, 0)),  # Sun 2026-02-08 22:00 local (UTC: Mon 02-09) -> 02-02
        hit(utc(2026, 2, 16, 7, 30)),  # Sun 2026-02-15 23:30 local (UTC: Mon 02-16) -> 02-09
        hit(utc(2026, 2, 16, 8, 10)),  # Mon 2026-02-16 00:10 local -> 02-16
    ]
    now = datetime(2026, 2, 18, 12, 0, tzinfo=LA)
    report = compute_kpi(contacts, tz=LA, now=now, weeks=3, target_max=2)
    # Bucketed in UTC this would be 02-02: 0, 02-09: 1, 02-16: 2.
    assert weekly(report) == {"2026-02-02": 1, "2026-02-09": 1, "2026-02-16": 1}


def test_berlin_dst_week_keeps_contacts_either_side_of_the_switch() -> None:
    # DST starts Sun 2026-03-29 02:00 CET -> 03:00 CEST. Week 03-23 runs from
    # 2026-03-22T23:00Z to 2026-03-29T22:00Z: 167 hours.
    contacts = [
        hit(utc(2026, 3, 22, 22, 59)),  # Sun 03-22 23:59 CET -> week 03-16
        hit(utc(2026, 3, 22, 23, 0)),  # Mon 03-23 00:00 CET -> week 03-23
        hit(utc(2026, 3, 29, 0, 59)),  # Sun 03-29 01:59 CET, just before the switch -> 03-23
        hit(utc(2026, 3, 29, 1, 0)),  # Sun 03-29 03:00 CEST, just after -> 03-23
        hit(utc(2026, 3, 29, 21, 59)),  # Sun 03-29 23:59 CEST -> 03-23
        hit(utc(2026, 3, 29, 22, 0)),  # Mon 03-30 00:00 CEST -> week 03-30
    ]
    now = utc(2026, 4, 1, 10, 0)  # Wed 04-01 12:00 CEST
    report = compute_kpi(contacts, tz=BERLIN, now=now, weeks=3, target_max=2)
    assert weekly(report) == {"2026-03-16": 1, "2026-03-23": 4, "2026-03-30": 1}


def test_owner_wait_over_the_whole_dst_week_is_167_hours() -> None:
    waits = [OwnerWait(1, utc(2026, 3, 22, 23, 0), utc(2026, 3, 29, 22, 0))]
    report = compute_kpi(
        [], tz=BERLIN, now=utc(2026, 4, 1, 10, 0), weeks=2, target_max=2, owner_waits=waits
    )
    assert weekly(report, "owner_wait_hours") == {"2026-03-23": 167.0, "2026-03-30": 0.0}


def test_owner_wait_is_split_between_weeks_and_open_waits_run_to_now() -> None:
    waits = [
        # Sun 22:00 CEST -> Mon 03:00 CEST: 2 h in week 03-23 (22:00-24:00), 3 h in 03-30.
        OwnerWait(1, utc(2026, 3, 29, 20, 0), utc(2026, 3, 30, 1, 0)),
        # Still waiting since Mon 03-30 10:00 CEST (08:00Z); now is Wed 10:00Z: 50 h.
        OwnerWait(2, utc(2026, 3, 30, 8, 0), None),
    ]
    report = compute_kpi(
        [], tz=BERLIN, now=utc(2026, 4, 1, 10, 0), weeks=2, target_max=2, owner_waits=waits
    )
    assert weekly(report, "owner_wait_hours") == {"2026-03-23": 2.0, "2026-03-30": 53.0}


def test_owner_waits_come_from_level_changes_in_ticket_history() -> None:
    t0, t1, t2 = utc(2026, 3, 2, 9), utc(2026, 3, 2, 13), utc(2026, 3, 3, 9)
    events = [
        # Ticket 1: status and level change together; the status row at the same instant
        # does not end the wait, the pick-up four hours later does.
        (1, t0, "status", "escalated"),
        (1, t0, "level", "owner"),
        (1, t1, "status", "in_progress"),
        # Ticket 2: escalated to L2 (not the owner), then to the owner, never picked up.
        (2, t0, "level", "L2"),
        (2, t2, "level", "owner"),
    ]
    assert owner_waits_from_events(events) == [OwnerWait(1, t0, t1), OwnerWait(2, t2, None)]


def _weeks_with(counts: list[int], current: int, early: int = 30) -> list[ContactFact]:
    """`counts` interruptions in the four complete weeks 02-02..02-23, `current` in 03-02,
    and `early` in week 01-26 (outside the average)."""
    monday = utc(2026, 1, 26, 10)
    out = [hit(monday) for _ in range(early)]
    for i, n in enumerate([*counts, current], start=1):
        out += [hit(monday + timedelta(weeks=i)) for _ in range(n)]
    return out


NOW = utc(2026, 3, 4, 12)  # Wednesday of week 03-02, zone UTC


def test_four_week_average_is_over_complete_weeks_only_and_above_target() -> None:
    report = compute_kpi(
        _weeks_with([12, 8, 4, 2], current=20), tz=ZoneInfo("UTC"), now=NOW, target_max=2
    )
    # (12 + 8 + 4 + 2) / 4 = 26 / 4 = 6.5; the 20 this week and the 30 in 01-26 are out.
    assert report["four_week_average"] == 6.5
    assert report["status"] == "above_target"
    assert report["average_of"] == ["2026-02-02", "2026-02-09", "2026-02-16", "2026-02-23"]
    assert weekly(report)["2026-03-02"] == 20


def test_four_week_average_on_target() -> None:
    report = compute_kpi(
        _weeks_with([2, 1, 2, 1], current=9), tz=ZoneInfo("UTC"), now=NOW, target_max=2
    )
    assert report["four_week_average"] == 1.5  # (2 + 1 + 2 + 1) / 4
    assert report["status"] == "on_target"


def test_average_equal_to_target_is_on_target_even_with_few_weeks_shown() -> None:
    report = compute_kpi(
        _weeks_with([2, 2, 2, 2], current=0), tz=ZoneInfo("UTC"), now=NOW, weeks=1, target_max=2
    )
    assert report["four_week_average"] == 2.0  # 8 / 4, inside the 0-2 band
    assert report["status"] == "on_target"
    assert [w["week_start"] for w in report["weeks"]] == ["2026-03-02"]


def test_deflections_and_refusals_do_not_count() -> None:
    monday = utc(2026, 3, 2, 20)
    contacts = [
        hit(monday, minutes=10, after_hours=True),
        hit(monday, minutes=5),
        hit(monday, channel="in_app", minutes=3, after_hours=True),
        hit(monday, "deflection", channel="in_app", minutes=7, after_hours=True),
        hit(monday, "deflection", channel="in_app"),
        hit(monday, "refused", channel="call", minutes=2),
    ]
    report = compute_kpi(contacts, tz=ZoneInfo("UTC"), now=NOW, weeks=1, target_max=2)
    assert report["weeks"] == [
        {
            "week_start": "2026-03-02",
            "complete": False,
            "interruptions": 3,
            "deflections": 2,
            "refused": 1,
            "after_hours": 2,  # the after-hours deflection is not an interruption
            "owner_minutes": 18,  # 10 + 5 + 3; the 7 and 2 were not owner time
            "owner_wait_hours": 0.0,
        }
    ]


def test_breakdowns_cover_interruptions_in_the_shown_weeks_most_first() -> None:
    week = utc(2026, 3, 2, 10)
    acme_vpn: dict[str, Any] = {"ticket_id": 1, "client": "Acme", "category": "vpn"}
    contacts = [
        hit(week, technician="Ana", minutes=10, **acme_vpn),
        hit(
            week,
            channel="text",
            technician="Ana",
            minutes=5,
            ticket_id=2,
            client="Acme",
            category="backup",
        ),
        hit(
            week,
            reason="technical_decision",
            technician="Ben",
            minutes=15,
            ticket_id=3,
            client="Globex",
            category="vpn",
        ),
        hit(week),  # nobody named, no ticket
        hit(week, ticket_id=4),  # a ticket with no client and no category
        hit(week, "deflection", technician="Ben", **acme_vpn),  # not an interruption
        hit(utc(2026, 2, 2, 10), technician="Zed", **acme_vpn),  # averaged, but not shown
    ]
    report = compute_kpi(contacts, tz=ZoneInfo("UTC"), now=NOW, weeks=2, target_max=2)

    def pairs(name: str) -> list[tuple[str, int, int]]:
        return [(i["name"], i["count"], i["minutes"]) for i in report[f"by_{name}"]]

    assert pairs("reason") == [("approval", 4, 15), ("technical_decision", 1, 15)]
    assert pairs("channel") == [("call", 4, 25), ("text", 1, 5)]
    assert pairs("technician") == [("Ana", 2, 15), ("unknown", 2, 0), ("Ben", 1, 15)]
    assert pairs("client") == [("Acme", 2, 15), ("none", 2, 0), ("Globex", 1, 15)]
    assert pairs("category") == [
        ("vpn", 2, 25),
        ("backup", 1, 5),
        ("none", 1, 0),
        ("uncategorised", 1, 0),
    ]


# --- found by `make mutate` ------------------------------------------------------------


def test_the_current_week_is_the_local_one_when_utc_is_still_in_the_last() -> None:
    # Mon 02-16 06:00 NZDT is Sun 02-15 17:00 UTC: in Auckland the new week has begun.
    now = datetime(2026, 2, 16, 6, 0, tzinfo=AUCKLAND)
    contacts = [hit(utc(2026, 2, 15, 12, 0)), hit(utc(2026, 2, 15, 10, 0))]  # 01:00 Mon, 23:00 Sun
    report = compute_kpi(contacts, tz=AUCKLAND, now=now, weeks=2, target_max=2)
    assert weekly(report) == {"2026-02-09": 1, "2026-02-16": 1}
    assert report["average_of"] == ["2026-01-19", "2026-01-26", "2026-02-02", "2026-02-09"]
    assert report["by_reason"] == [{"name": "approval", "count": 2, "minutes": 0}]


def test_the_report_shows_eight_weeks_by_default_and_says_what_it_was_given() -> None:
    report = compute_kpi([], tz=ZoneInfo("UTC"), now=NOW, target_max=3)
    assert len(report["weeks"]) == 8
    assert (report["target_max"], report["now"]) == (3, "2026-03-04T12:00:00+00:00")


def test_breakdown_ties_are_ordered_by_name() -> None:
    contacts = [hit(NOW, channel="text"), hit(NOW, channel="call"), hit(NOW, channel="chat")]
    report = compute_kpi(contacts, tz=ZoneInfo("UTC"), now=NOW, weeks=1, target_max=2)
    assert [r["name"] for r in report["by_channel"]] == ["call", "chat", "text"]


def test_owner_wait_hours_are_rounded_to_two_decimals() -> None:
    waits = [OwnerWait(1, utc(2026, 3, 3, 9, 0), utc(2026, 3, 3, 9, 10))]  # 10 minutes
    report = compute_kpi([], tz=ZoneInfo("UTC"), now=NOW, weeks=1, target_max=2, owner_waits=waits)
    assert report["weeks"][0]["owner_wait_hours"] == 0.17


def test_a_wait_left_open_on_one_ticket_ends_open_when_the_next_ticket_begins() -> None:
    t0, t1 = utc(2026, 3, 2, 9), utc(2026, 3, 2, 10)
    events = [
        (1, t0, "level", "owner"),  # never picked up
        (2, t1, "level", "owner"),
        (2, t1, "status", "escalated"),  # same instant: does not end ticket 2's wait
    ]
    assert owner_waits_from_events(events) == [OwnerWait(1, t0, None), OwnerWait(2, t1, None)]


@pytest.fixture
def server_in_los_angeles(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's own zone is Los Angeles: only the organisation's zone may count."""
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("server_in_los_angeles")
def test_the_current_week_does_not_follow_the_servers_zone() -> None:
    # Mon 02-16 06:00 NZDT is still Sunday 02-15 in Los Angeles: Auckland's week decides.
    now = datetime(2026, 2, 16, 6, 0, tzinfo=AUCKLAND)
    report = compute_kpi([], tz=AUCKLAND, now=now, weeks=2, target_max=2)
    assert [(w["week_start"], w["complete"]) for w in report["weeks"]] == [
        ("2026-02-09", True),
        ("2026-02-16", False),
    ]


@pytest.mark.usefixtures("server_in_los_angeles")
def test_a_local_midnight_is_an_instant_in_utc() -> None:
    midnight = local_midnight(datetime(2026, 2, 16).date(), AUCKLAND)
    assert midnight == utc(2026, 2, 15, 11, 0)
    assert midnight.utcoffset() == timedelta(0)


@pytest.mark.usefixtures("server_in_los_angeles")
def test_the_window_reaches_back_to_the_first_shown_or_averaged_week() -> None:
    now = datetime(2026, 2, 16, 6, 0, tzinfo=AUCKLAND)  # week of Mon 02-16 in Auckland
    # Eight weeks shown: back to Mon 12-29, midnight NZDT (11:00Z the day before).
    assert window_start(now, AUCKLAND, 8) == utc(2025, 12, 28, 11, 0)
    # Two weeks shown: the four averaged weeks reach further, back to Mon 01-19.
    assert window_start(now, AUCKLAND, 2) == utc(2026, 1, 18, 11, 0)
    assert window_start(now, AUCKLAND, 5) == utc(2026, 1, 18, 11, 0)
