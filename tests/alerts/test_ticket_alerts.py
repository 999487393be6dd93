"""The alerts a ticket page lists: a group's own alert, a notification group's members,
an outage's children; firing first, the rest counted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select

from franchise.alerts.models import AlertGroup, Integration
from franchise.alerts.ticket_alerts import AlertLine, lines_of, summarise, ticket_alerts
from franchise.alerts.worker import Report
from franchise.db import Database

MakeIntegration = Callable[..., tuple[Integration, str]]
Post = Callable[..., int]
Drain = Callable[[], Report]
AT = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


def test_a_notification_group_is_its_members_and_a_plain_group_itself() -> None:
    members = {
        "fp-a": {"status": "firing", "title": "Down", "host": "a", "at": AT.isoformat()},
        "fp-b": {"status": "resolved", "title": "", "host": None, "at": "not a time"},
    }
    assert lines_of("Group title", "a", "firing", None, members) == [
        AlertLine("a", "Down", "firing", AT),
        AlertLine(None, "Group title", "resolved", None),  # its own title when none
    ]
    assert lines_of("Disk full", "srv1", "resolved", AT, None) == [
        AlertLine("srv1", "Disk full", "resolved", AT)
    ]
    assert AlertLine("srv1", "Disk full", "firing", None).label == "srv1: Disk full"
    assert AlertLine(None, "Disk full", "firing", None).label == "Disk full"


def test_firing_comes_first_and_the_rest_are_counted() -> None:
    lines = [
        AlertLine("b", "Down", "resolved", None),
        AlertLine("c", "Down", "firing", None),
        AlertLine("a", "Down", "firing", None),
        AlertLine(None, "Queue full", "acknowledged", None),
    ]
    shown = summarise(lines, groups=3, shown=2)
    assert [line.host for line in shown.lines] == ["a", "c"]
    assert (shown.firing, shown.resolved, shown.hosts, shown.groups, shown.more) == (2, 1, 3, 3, 2)
    assert summarise(lines, groups=3).more == 0


def test_a_ticket_lists_its_groups_alerts_and_others_have_none(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain
) -> None:
    integration, _ = make_integration("generic")
    post(integration, [{"title": "Disk full on srv1", "dedup_key": "disk-srv1", "host": "srv1"}])
    drain()
    with db.unit_of_work() as session:
        group = session.scalars(select(AlertGroup)).one()
        assert group.ticket_id is not None
        found = ticket_alerts(session, group.ticket_id)
        assert found is not None
        assert [(a.host, a.title, a.status) for a in found.lines] == [
            ("srv1", "Disk full on srv1", "firing")
        ]
        assert ticket_alerts(session, group.ticket_id + 1000) is None


def test_the_version_changes_with_what_the_card_shows_and_only_then() -> None:
    at = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    firing = [
        AlertLine("srv-1", "Disk full", "firing", at),
        AlertLine("srv-2", "Down", "firing", at),
    ]
    one_resolved = [firing[0], AlertLine("srv-2", "Down", "resolved", at)]
    assert summarise(firing, 2).version == summarise(list(reversed(firing)), 2).version
    assert summarise(firing, 2).version != summarise(one_resolved, 2).version
    assert summarise(firing, 2).version != summarise(firing, 1).version
    assert len(summarise(firing, 2).version) == 16
