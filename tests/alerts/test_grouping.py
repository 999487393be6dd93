"""Grouping: one ticket per Alertmanager notification group (groupKey) by default, one per
alert with `--group-by alert`; a group resolves when its last alert does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, select

from franchise.alerts import bulk_plan, transitions
from franchise.alerts.models import AlertGroup, Integration
from franchise.alerts.worker import Report
from franchise.db import Database
from franchise.orgsettings.service import set_setting
from franchise.tickets.models import Ticket
from tests.alerts.conftest import FIXTURES

MakeIntegration = Callable[..., tuple[Integration, str]]
Post = Callable[..., int]
Drain = Callable[[], Report]
LARGE = (FIXTURES / "alertmanager" / "msteams_large_prom_post_request.json").read_bytes()


def tickets(db: Database) -> list[Ticket]:
    with db.unit_of_work() as session:
        return list(session.scalars(select(Ticket).order_by(Ticket.id)))


def groups(db: Database) -> list[AlertGroup]:
    with db.unit_of_work() as session:
        return list(session.scalars(select(AlertGroup).order_by(AlertGroup.id)))


def notification(
    *alerts: tuple[str, str], group_key: str | None = '{}:{alertname="Down"}'
) -> dict[str, Any]:
    """An Alertmanager body: (instance, status) per alert, all in one group."""
    body: dict[str, Any] = {
        "version": "4",
        "status": "firing" if any(s == "firing" for _, s in alerts) else "resolved",
        "groupLabels": {"alertname": "Down"},
        "commonAnnotations": {},
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": "Down", "instance": f"{host}:9100"},
                "annotations": {"summary": "Host down"},
                "fingerprint": f"fp-{host}",
            }
            for host, status in alerts
        ],
    }
    if group_key is not None:
        body["groupKey"] = group_key
    return body


def test_a_notification_group_is_one_ticket_by_default(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain
) -> None:
    integration, _ = make_integration("alertmanager")
    assert integration.group_by == "group"
    post(integration, LARGE)
    post(integration, LARGE)  # the repeat notification of the same group
    report = drain()
    assert report.outcomes == {"opened": 1, "deduplicated": 37}
    [ticket] = tickets(db)
    assert ticket.title == "Server is down"  # the group's commonAnnotations summary
    [group] = groups(db)
    assert group.count == 38
    assert len(group.members or {}) == 19
    assert ticket.custom_fields["alerts_firing"] == 19
    assert ticket.custom_fields["alerts_resolved"] == 0


def test_group_by_alert_keeps_one_ticket_per_fingerprint(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain
) -> None:
    integration, _ = make_integration("alertmanager", group_by="alert")
    # Its 19 alerts all carry site=A: outage correlation would make them one outage
    # (test_outages.py); off here, to see the grouping alone.
    with db.unit_of_work() as session:
        set_setting(session, "outage_alert_groups", 0)
    post(integration, LARGE)
    post(integration, LARGE)
    assert drain().outcomes == {"opened": 19, "deduplicated": 19}
    assert len(tickets(db)) == 19
    assert {g.count for g in groups(db)} == {2}
    assert all(g.members is None for g in groups(db))


def test_a_body_without_group_key_groups_per_alert(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain
) -> None:
    integration, _ = make_integration("alertmanager")
    post(integration, notification(("a", "firing"), ("b", "firing"), group_key=None))
    assert drain().outcomes == {"opened": 2}
    assert sorted(t.title for t in tickets(db)) == ["Host down on a", "Host down on b"]


def test_the_group_resolves_with_its_last_alert_and_shows_which_still_fire(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain
) -> None:
    integration, _ = make_integration("alertmanager", auto_resolve=True)
    post(integration, notification(("a", "firing"), ("b", "firing")))
    assert drain().outcomes == {"opened": 1, "deduplicated": 1}
    [ticket] = tickets(db)
    assert ticket.title == "Alert group alertname=Down"  # no common summary: its labels
    post(integration, notification(("a", "resolved"), ("b", "firing")))
    assert drain().outcomes == {"member-resolved": 1, "deduplicated": 1}
    [ticket] = tickets(db)
    assert ticket.status == "new"
    assert ticket.custom_fields["alerts_still_firing"] == ["b: Host down on b"]
    assert (ticket.custom_fields["alerts_firing"], ticket.custom_fields["alerts_resolved"]) == (
        1,
        1,
    )
    assert groups(db)[0].status == "firing"
    post(integration, notification(("a", "resolved"), ("b", "resolved")))
    # In key order: a (resolved again, b still firing), then b, the last: the group resolves.
    assert drain().outcomes == {"member-resolved": 1, "auto-resolved": 1}
    [ticket] = tickets(db)
    assert ticket.status == "resolved"
    assert groups(db)[0].status == "resolved"
    assert ticket.custom_fields["alerts_still_firing"] == []
    # Firing again after the group resolved: a new ticket for the group.
    post(integration, notification(("a", "firing")))
    assert drain().outcomes == {"opened": 1}
    assert [t.status for t in tickets(db)] == ["resolved", "new"]


def test_a_large_notification_group_is_applied_without_reading_its_group_per_alert(
    db: Database,
    make_integration: MakeIntegration,
    post: Post,
    drain: Drain,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The group and its ticket are read once per transaction: every alert of a 200-alert
    body used to read both again (and so write the growing member list once per alert).
    Its members are counted and its ticket's list of what fires sorted once per
    transaction too, not per alert: a 4,000-alert group took 10 s to apply that way."""
    work: dict[str, int] = {"counted": 0, "mirrored": 0}

    def counted(members: dict[str, Any]) -> int:
        work["counted"] += 1
        return real_count(members)

    def mirrored(*args: Any) -> dict[str, Any]:
        work["mirrored"] += 1
        return real_mirror(*args)

    real_count, real_mirror = transitions.firing_members, bulk_plan.mirrored_fields
    monkeypatch.setattr(transitions, "firing_members", counted)
    monkeypatch.setattr(bulk_plan, "mirrored_fields", mirrored)
    integration, _ = make_integration("alertmanager")
    post(integration, notification(("web1", "firing")))
    drain()
    work.update(counted=0, mirrored=0)
    post(integration, notification(*((f"host{n:03d}", "firing") for n in range(200))))
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(" ".join(statement.split()).upper())

    event.listen(db.bind, "before_cursor_execute", record)
    try:
        report = drain()
    finally:
        event.remove(db.bind, "before_cursor_execute", record)
    assert (report.done, report.alerts) == (1, 200)
    group_reads = [s for s in statements if s.startswith("SELECT ALERT_GROUPS.")]
    ticket_reads = [s for s in statements if s.startswith("SELECT TICKETS.")]
    member_writes = [
        s for s in statements if s.startswith("UPDATE ALERT_GROUPS") and "MEMBERS=" in s
    ]
    # The body is applied in parts of about 0.1 s each (one transaction each): each part
    # reads the group and its ticket once and writes the member list once.
    parts = [s for s in statements if s.startswith("UPDATE ALERT_INBOX") and "PROGRESS=" in s]
    assert 1 <= len(parts) <= 20, parts
    assert len(group_reads) <= len(parts), group_reads
    assert len(ticket_reads) <= len(parts), ticket_reads
    assert len(member_writes) <= len(parts), member_writes
    assert 1 <= work["counted"] <= len(parts), work
    assert 1 <= work["mirrored"] <= len(parts), work
    [group] = groups(db)
    assert group.count == 201
    assert len(group.members or {}) == 201
    [ticket] = tickets(db)
    assert ticket.custom_fields["alert_count"] == 201
