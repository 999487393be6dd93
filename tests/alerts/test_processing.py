"""From inbox to tickets: de-duplication, resolving, runbooks, clients and triage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from franchise.alerts.models import AlertGroup, InboxItem, Integration
from franchise.alerts.present import triage_queue
from franchise.alerts.service import add_mapping
from franchise.alerts.worker import MAX_ATTEMPTS, Report
from franchise.clients.models import Endpoint
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.tickets.models import Ticket
from franchise.tickets.service import history

MakeIntegration = Callable[..., tuple[Integration, str]]
Post = Callable[..., int]
Drain = Callable[[], Report]


def alert(title: str = "Disk C: low on FS01", **fields: Any) -> dict[str, Any]:
    return {"title": title, "host": "fs01", "severity": "error", **fields}


def tickets(db: Database) -> list[Ticket]:
    with db.unit_of_work() as session:
        return list(
            session.scalars(select(Ticket).where(Ticket.source == "alert").order_by(Ticket.id))
        )


def groups(db: Database) -> list[AlertGroup]:
    with db.unit_of_work() as session:
        return list(session.scalars(select(AlertGroup).order_by(AlertGroup.id)))


def test_repeats_of_one_alert_make_one_ticket_with_a_count(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain
) -> None:
    integration, _ = make_integration()
    for _ in range(3):
        post(integration, alert(dedup_key="fs01-disk"))
    last = post(
        integration, {"alerts": [alert(dedup_key="fs01-disk"), alert("Other", dedup_key="other")]}
    )
    with db.unit_of_work() as session:
        received = sorted(i.received_at for i in session.scalars(select(InboxItem)))
        assert (last_item := session.get(InboxItem, last)) is not None
        assert last_item.received_at == received[-1]
    report = drain()
    assert (report.done, report.alerts) == (4, 5)
    assert report.outcomes == {"opened": 2, "deduplicated": 3}
    (ticket, other) = tickets(db)
    group = groups(db)[0]
    assert (group.count, group.ticket_id, group.status) == (4, ticket.id, "firing")
    assert ticket.custom_fields["alert_count"] == 4
    assert ticket.custom_fields["alert_group"] == group.id
    # First seen when the first body arrived, last seen when the fourth did.
    assert (group.first_seen, group.last_seen) == (received[0], received[-1])
    assert ticket.custom_fields["alert_last_seen"] == received[-1].isoformat()
    assert ticket.priority == "high"  # severity error
    assert "alert" in ticket.tags and "alert:generic" in ticket.tags
    assert other.title == "Other"


def test_resolve_notes_the_ticket_and_auto_resolve_resolves_it(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain
) -> None:
    manual, _ = make_integration(name="manual")
    auto, _ = make_integration(name="auto", auto_resolve=True)
    for integration in (manual, auto):
        post(integration, alert(dedup_key="k"))
        post(integration, alert(dedup_key="k", status="resolved"))
    drain()
    kept, resolved = tickets(db)
    assert kept.status == "new"
    assert resolved.status == "resolved" and resolved.resolved_at is not None
    with db.unit_of_work() as session:
        kept_events = [(e.kind, e.note) for e in history(session, kept)]
        resolved_events = [(e.kind, e.field, e.note) for e in history(session, resolved)]
    assert ("alert-resolved", "manual (generic) reports the alert resolved.") in kept_events
    assert (
        "changed",
        "status",
        "auto-resolved: auto reports the alert resolved",
    ) in resolved_events
    assert [g.status for g in groups(db)] == ["resolved", "resolved"]


def test_a_resolved_alert_that_fires_again_opens_a_new_ticket(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain
) -> None:
    integration, _ = make_integration(auto_resolve=True)
    post(integration, alert(dedup_key="k"))
    post(integration, alert(dedup_key="k", status="resolved"))
    post(integration, alert(dedup_key="k"))
    drain()
    first, second = tickets(db)
    assert (first.status, second.status) == ("resolved", "new")
    (group,) = groups(db)
    assert (group.ticket_id, group.count, group.status) == (second.id, 1, "firing")
    with db.unit_of_work() as session:
        notes = [e.note for e in history(session, second)]
    assert f"This alert fired before; the previous ticket was #{first.id}." in notes


def test_firing_again_without_auto_resolve_keeps_the_open_ticket(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain
) -> None:
    integration, _ = make_integration()
    post(integration, alert(dedup_key="k"))
    post(integration, alert(dedup_key="k", status="resolved"))
    post(integration, alert(dedup_key="k"))
    drain()
    (ticket,) = tickets(db)
    (group,) = groups(db)
    assert (group.count, group.status) == (2, "firing")
    with db.unit_of_work() as session:
        assert "The alert is firing again." in [e.note for e in history(session, ticket)]


def test_an_older_event_processed_late_does_not_reopen(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain
) -> None:
    """Parallel workers may finish a resolve before the firing received just before it."""
    integration, _ = make_integration()
    firing = post(integration, alert(dedup_key="k"))
    post(integration, alert(dedup_key="k", status="resolved"))
    with db.unit_of_work() as session:
        item = session.get(InboxItem, firing)
        assert item is not None
        item.state = "done"  # hold the firing back
        later = item.received_at
    drain()  # the resolve: nothing to resolve, remembered
    with db.unit_of_work() as session:
        item = session.get(InboxItem, firing)
        assert item is not None
        item.state = "pending"
        item.received_at = later - timedelta(seconds=1)
    report = drain()
    assert report.outcomes == {"stale": 1}
    assert tickets(db) == []
    assert [(g.status, g.ticket_id) for g in groups(db)] == [("resolved", None)]


def test_runbook_is_chosen_by_alert_type_first(
    db: Database, starter: None, make_integration: MakeIntegration, post: Post, drain: Drain
) -> None:
    integration, _ = make_integration()
    # The words say "printer"; the alert type says backup, and the alert type wins.
    post(integration, alert("Printer tray report job", alert_type="backup.job_failed"))
    post(integration, alert("Disk space low: C: below 5% free on FS02", host="fs02"))
    drain()
    by_type, by_text = tickets(db)
    assert (by_type.runbook_key, by_type.category) == ("backup-missing", "backup")
    assert by_text.runbook_key == "disk-space-low"
    # backup-missing is attached and not started, and a failed backup job is no emergency
    # in the starter map: escalation waits for the runbook.
    assert by_type.custom_fields.get("escalation_allowed") == "no"


def test_clients_come_from_alert_mappings_integration_and_endpoints(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain
) -> None:
    with db.unit_of_work() as session:
        acme = add_client(session, name="Acme Dental")
        beta = add_client(session, name="Beta Law")
        gamma = add_client(session, name="Gamma Build")
        delta = add_client(session, name="Delta Farm")
        session.add(Endpoint(client_id=delta.id, hostname="DELTA-PC7"))
        ids = {c.name: c.id for c in (acme, beta, gamma, delta)}
    integration, _ = make_integration()
    dedicated, _ = make_integration(name="gamma prometheus", client="Gamma Build")
    with db.unit_of_work() as session:
        add_mapping(session, client="Beta Law", label="customer=beta")
        add_mapping(session, client="Acme Dental", host_pattern="*.acme.local")
    post(integration, alert("named", client="acme dental", host="x"))
    post(integration, alert("by label", labels={"customer": "beta"}, host="x"))
    post(integration, alert("by host pattern", host="FS01.acme.local"))
    post(integration, alert("by endpoint", host="delta-pc7.delta.lan"))
    post(integration, alert("nobody knows", host="mystery"))
    post(dedicated, alert("dedicated", host="mystery"))
    drain()
    got = {t.title: t.client_id for t in tickets(db)}
    assert got == {
        "named": ids["Acme Dental"],
        "by label": ids["Beta Law"],
        "by host pattern": ids["Acme Dental"],
        "by endpoint": ids["Delta Farm"],
        "nobody knows": None,
        "dedicated": ids["Gamma Build"],
    }
    with db.unit_of_work() as session:
        queue = triage_queue(session)
    assert [(r["title"], r["host"], r["count"]) for r in queue] == [("nobody knows", "mystery", 1)]


def test_unknown_client_named_in_the_alert_goes_to_triage_with_the_reason(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain
) -> None:
    integration, _ = make_integration()
    post(integration, alert(client="Nobody Inc"))
    drain()
    (ticket,) = tickets(db)
    assert ticket.client_id is None and "triage" in ticket.tags
    assert "client 'Nobody Inc' named in the alert is not a known client" in ticket.body


def test_acknowledge_notes_the_ticket(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain
) -> None:
    integration, _ = make_integration("pagerduty")
    trigger = {
        "event_action": "trigger",
        "dedup_key": "d1",
        "payload": {"summary": "UPS on battery", "source": "ups1", "severity": "warning"},
    }
    post(integration, trigger)
    post(integration, {"event_action": "acknowledge", "dedup_key": "d1"})
    report = drain()
    assert report.outcomes == {"opened": 1, "acknowledged": 1}
    (ticket,) = tickets(db)
    with db.unit_of_work() as session:
        assert "Acknowledged in the monitoring tool." in [e.note for e in history(session, ticket)]


def test_rejected_bodies_are_kept_and_never_processed(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain
) -> None:
    integration, _ = make_integration()
    item_id = post(integration, b'{"title": ')
    assert drain().claimed == 0
    with db.unit_of_work() as session:
        item = session.get(InboxItem, item_id)
        assert item is not None
        assert (item.state, item.body) == ("rejected", '{"title": ')
        assert item.error is not None and "not valid JSON" in item.error


def test_a_failing_item_is_retried_then_parked_as_failed(
    db: Database,
    make_integration: MakeIntegration,
    post: Post,
    drain: Drain,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    integration, _ = make_integration()
    item_id = post(integration, alert())

    def broken(*_args: object, **_kwargs: object) -> str:
        raise RuntimeError("boom")

    # In both paths: the bulk one gives way to the one-by-one path, which fails the item.
    monkeypatch.setattr("franchise.alerts.worker.apply_alert", broken)
    monkeypatch.setattr("franchise.alerts.bulk._apply", broken)
    report = drain()
    assert (report.done, report.failed) == (0, MAX_ATTEMPTS)
    with db.unit_of_work() as session:
        item = session.get(InboxItem, item_id)
        assert item is not None
        assert (item.state, item.attempts, item.error) == (
            "failed",
            MAX_ATTEMPTS,
            "RuntimeError: boom",
        )
    assert tickets(db) == []


def test_claims_expire_after_the_lease_and_are_never_shared(
    db: Database, make_integration: MakeIntegration, post: Post
) -> None:
    from franchise.alerts.inbox import claim
    from franchise.alerts.worker import process_item, process_pending

    integration, _ = make_integration()
    first = post(integration, alert(dedup_key="a"))
    with db.unit_of_work() as session:
        assert claim(session, worker="dead", batch=10, lease_seconds=60) == [first]
    # Within the lease nobody else takes it, and processing it as someone else does nothing.
    assert process_pending(db, worker="other", lease_seconds=60).claimed == 0
    with db.unit_of_work() as session:
        assert process_item(session, first, "other") is None
    # After the lease it is taken again and processed once.
    report = process_pending(db, worker="other", lease_seconds=0)
    assert (report.claimed, report.done) == (1, 1)
    with db.unit_of_work() as session:
        item = session.get(InboxItem, first)
        assert item is not None
        assert (item.state, item.attempts, item.claimed_by) == ("done", 2, "other")
        assert session.scalar(select(func.count()).select_from(AlertGroup)) == 1
