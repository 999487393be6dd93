"""apply_alert under every order production can deliver: late, duplicate, out of order.

Events are applied directly with the time they were received, as the worker does, so each
case states its order exactly instead of relying on how a drain happens to interleave.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.alerts.models import AlertGroup, Integration
from franchise.alerts.processing import apply_alert
from franchise.alerts.service import add_integration
from franchise.integrations.normalized import NormalizedAlert
from franchise.tickets.models import Ticket
from franchise.tickets.service import change_ticket, history

NO_CLIENT = "Client: no mapping, integration client or endpoint matched"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIRING = NormalizedAlert(dedup_key="fs01-disk", status="firing", title="Disk C: low on FS01")
RESOLVED = NormalizedAlert(dedup_key="fs01-disk", status="resolved", title="Disk C: low on FS01")


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def auto(session: Session) -> Integration:
    integration, _ = add_integration(session, kind="generic", name="auto", auto_resolve=True)
    return integration


def group_of(session: Session) -> AlertGroup:
    group = session.scalar(select(AlertGroup).where(AlertGroup.dedup_key == "fs01-disk"))
    assert group is not None
    return group


def ticket_of(session: Session, group: AlertGroup) -> Ticket:
    assert group.ticket_id is not None
    ticket = session.get(Ticket, group.ticket_id)
    assert ticket is not None
    return ticket


def resolved_notes(session: Session, ticket: Ticket) -> int:
    return sum(1 for e in history(session, ticket) if e.kind == "alert-resolved")


def test_an_older_resolve_processed_late_does_not_close_an_alert_that_fired_again(
    session: Session, auto: Integration
) -> None:
    """Received: firing 9:00, resolve 9:05, firing 9:10. Processed: the 9:10 firing before
    the 9:05 resolve. The alert is firing (9:10 is the newest news) and the ticket stays open."""
    assert apply_alert(session, auto, FIRING, received_at=at(0)) == "opened"
    assert apply_alert(session, auto, FIRING, received_at=at(10)) == "deduplicated"
    assert apply_alert(session, auto, RESOLVED, received_at=at(5)) == "stale"
    group = group_of(session)
    assert (group.status, group.resolved_at) == ("firing", None)
    assert group.status_at == at(10)
    ticket = ticket_of(session, group)
    assert ticket.status == "new"
    assert resolved_notes(session, ticket) == 0


def test_a_duplicate_resolve_is_applied_once(session: Session, auto: Integration) -> None:
    apply_alert(session, auto, FIRING, received_at=at(0))
    assert apply_alert(session, auto, RESOLVED, received_at=at(5)) == "auto-resolved"
    assert apply_alert(session, auto, RESOLVED, received_at=at(7)) == "duplicate"
    group = group_of(session)
    # Resolved when it first said so; the repeat only counts as having been seen.
    assert (group.status_at, group.resolved_at) == (at(5), at(5))
    assert group.last_seen == at(7)
    ticket = ticket_of(session, group)
    assert resolved_notes(session, ticket) == 1
    status_changes = [e for e in history(session, ticket) if e.field == "status"]
    assert [(e.old_value, e.new_value) for e in status_changes] == [("new", "resolved")]


def test_a_late_firing_never_moves_status_at_backwards(session: Session, auto: Integration) -> None:
    """Firing at 9:10 processed, then a firing from 9:02 processed late: the status still
    dates from 9:10, so a resolve sent at 9:05 (before the 9:10 firing) stays stale."""
    apply_alert(session, auto, FIRING, received_at=at(10))
    assert apply_alert(session, auto, FIRING, received_at=at(2)) == "deduplicated"
    group = group_of(session)
    assert group.status_at == at(10)
    assert group.last_seen == at(10)
    assert group.count == 2
    assert apply_alert(session, auto, RESOLVED, received_at=at(5)) == "stale"
    assert group.status == "firing"
    assert ticket_of(session, group).status == "new"


def test_a_resolve_received_after_the_newest_firing_resolves(
    session: Session, auto: Integration
) -> None:
    """The other side of the edge: a resolve received after the last firing applies, and one
    received at the very same instant is not older than it either."""
    apply_alert(session, auto, FIRING, received_at=at(10))
    assert apply_alert(session, auto, RESOLVED, received_at=at(10)) == "auto-resolved"
    assert group_of(session).status == "resolved"


def test_auto_resolve_leaves_a_ticket_a_person_already_closed_alone(
    session: Session, auto: Integration
) -> None:
    apply_alert(session, auto, FIRING, received_at=at(0))
    group = group_of(session)
    ticket = ticket_of(session, group)
    change_ticket(session, ticket, actor=None, status="closed", note="fixed by hand")
    closed_events = len(history(session, ticket))
    assert apply_alert(session, auto, RESOLVED, received_at=at(5)) == "resolved"
    assert ticket.status == "closed"
    assert ticket.resolved_at is None
    events = history(session, ticket)
    # Only the monitoring tool's note is added: no status change, no "auto-resolved" line.
    assert [e.kind for e in events[closed_events:]] == ["alert-resolved"]
    assert group.status == "resolved"


ACK = NormalizedAlert(dedup_key="fs01-disk", status="acknowledged", title="Disk C: low on FS01")


def test_a_late_firing_for_a_resolved_alert_only_counts(
    session: Session, auto: Integration
) -> None:
    apply_alert(session, auto, FIRING, received_at=at(0))
    apply_alert(session, auto, RESOLVED, received_at=at(10))
    assert apply_alert(session, auto, FIRING, received_at=at(5)) == "stale"
    group = group_of(session)
    assert (group.status, group.count, group.status_at) == ("resolved", 2, at(10))


def test_a_resolve_for_an_unknown_alert_is_remembered_as_resolved_at_that_moment(
    session: Session, auto: Integration
) -> None:
    assert apply_alert(session, auto, RESOLVED, received_at=at(3)) == "ignored"
    group = group_of(session)
    assert (group.status, group.count, group.ticket_id) == ("resolved", 0, None)
    assert (group.first_seen, group.last_seen, group.status_at, group.resolved_at) == (
        at(3),
        at(3),
        at(3),
        at(3),
    )
    # The firing received before it (processed after) opens nothing.
    assert apply_alert(session, auto, FIRING, received_at=at(1)) == "stale"
    assert group.ticket_id is None


def test_a_new_firing_group_is_not_resolved(session: Session, auto: Integration) -> None:
    apply_alert(session, auto, FIRING, received_at=at(0))
    group = group_of(session)
    assert (group.status, group.count, group.resolved_at) == ("firing", 1, None)


def test_acknowledging_notes_an_open_ticket_only(session: Session, auto: Integration) -> None:
    assert apply_alert(session, auto, ACK, received_at=at(0)) == "ignored"
    apply_alert(session, auto, FIRING, received_at=at(1))
    group = group_of(session)
    ticket = ticket_of(session, group)
    assert apply_alert(session, auto, ACK, received_at=at(2)) == "acknowledged"
    assert [(e.kind, e.note) for e in history(session, ticket)][-1] == (
        "alert",
        "Acknowledged in the monitoring tool.",
    )
    assert group.last_seen == at(2)
    change_ticket(session, ticket, actor=None, status="closed")
    before = len(history(session, ticket))
    assert apply_alert(session, auto, ACK, received_at=at(3)) == "acknowledged"
    assert len(history(session, ticket)) == before


def test_firing_again_after_a_manual_resolve_notes_the_ticket(session: Session) -> None:
    manual, _ = add_integration(session, kind="generic", name="manual")
    apply_alert(session, manual, FIRING, received_at=at(0))
    assert apply_alert(session, manual, RESOLVED, received_at=at(1)) == "resolved"
    group = group_of(session)
    assert (group.status, group.resolved_at) == ("resolved", at(1))
    assert apply_alert(session, manual, FIRING, received_at=at(2)) == "deduplicated"
    ticket = ticket_of(session, group)
    assert [(e.kind, e.note) for e in history(session, ticket)][-1] == (
        "alert",
        "The alert is firing again.",
    )
    assert ticket.custom_fields["alert_last_seen"] == at(2).isoformat()
    assert ticket.custom_fields["alert_count"] == 2


def test_the_ticket_body_carries_the_alert_and_where_it_came_from(
    session: Session, auto: Integration
) -> None:
    detailed = NormalizedAlert(
        dedup_key="fs01-disk",
        status="firing",
        title="Disk C: low on FS01",
        severity="error",
        body="C: has 3% free",
        host="fs01",
        alert_type="disk.low",
    )
    apply_alert(session, auto, detailed, received_at=at(0))
    ticket = ticket_of(session, group_of(session))
    assert ticket.body == (
        "C: has 3% free\n"
        "\n"
        "Alert from auto (generic), severity error.\n"
        "Host: fs01\n"
        "Alert type: disk.low\n"
        "Dedup key: fs01-disk\n" + NO_CLIENT
    )
    bare = NormalizedAlert(dedup_key="bare", status="firing", title="Ping lost")
    apply_alert(session, auto, bare, received_at=at(0))
    group = session.scalar(select(AlertGroup).where(AlertGroup.dedup_key == "bare"))
    assert group is not None
    # No body, host or type: their lines are left out, and so is the blank line before.
    assert ticket_of(session, group).body == (
        "Alert from auto (generic), severity warning.\nDedup key: bare\n" + NO_CLIENT
    )


def test_firing_after_an_auto_resolve_opens_a_ticket_that_names_the_last_one(
    session: Session, auto: Integration
) -> None:
    apply_alert(session, auto, FIRING, received_at=at(0))
    first = group_of(session).ticket_id
    apply_alert(session, auto, RESOLVED, received_at=at(1))
    assert apply_alert(session, auto, FIRING, received_at=at(2)) == "opened"
    group = group_of(session)
    assert (group.count, group.first_seen, group.resolved_at) == (1, at(2), None)
    notes = [(e.kind, e.note) for e in history(session, ticket_of(session, group))]
    assert ("alert", f"This alert fired before; the previous ticket was #{first}.") in notes
