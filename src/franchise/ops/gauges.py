"""The numbers an MSP watches Franchise by, read from the database in a few aggregates:
the same answer whichever server process is scraped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.alerts.models import INBOX_STATES, InboxItem
from franchise.approvals.models import ApprovalRequest
from franchise.db import utcnow
from franchise.ops.heartbeat import ALIVE_FOR
from franchise.ops.metrics import Sample
from franchise.ops.models import WorkerHeartbeat
from franchise.tickets.models import Ticket
from franchise.tickets.service import CLOSED

WAITING = ("pending", "processing")


def collect(session: Session, *, now: datetime | None = None) -> list[Sample]:
    now = now or utcnow()
    return [
        *_inbox(session, now),
        *_tickets(session),
        *_approvals(session, now),
        _workers(session, now),
    ]


def _inbox(session: Session, now: datetime) -> list[Sample]:
    states = dict.fromkeys(INBOX_STATES, 0)
    for state, count in session.execute(
        select(InboxItem.state, func.count()).group_by(InboxItem.state)
    ):
        states[str(state)] = int(count)
    oldest = session.scalar(
        select(func.min(InboxItem.received_at)).where(InboxItem.state.in_(WAITING))
    )
    lag = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    alerts = session.scalar(
        select(func.coalesce(func.sum(InboxItem.alert_count), 0)).where(InboxItem.state == "done")
    )
    return [
        Sample(
            "franchise_inbox_items",
            "gauge",
            "Alert inbox items by state.",
            [({"state": s}, n) for s, n in states.items()],
        ),
        Sample(
            "franchise_inbox_depth",
            "gauge",
            "Webhook bodies waiting to become tickets.",
            [({}, states["pending"] + states["processing"])],
        ),
        Sample(
            "franchise_inbox_lag_seconds",
            "gauge",
            "Age of the oldest webhook body not yet processed; 0 when none waits.",
            [({}, round(lag, 3))],
        ),
        Sample(
            "franchise_inbox_processed_total",
            "counter",
            "Webhook bodies processed into tickets.",
            [({}, states["done"])],
        ),
        Sample(
            "franchise_alerts_processed_total",
            "counter",
            "Alerts (events inside webhook bodies) processed.",
            [({}, int(alerts or 0))],
        ),
    ]


def _tickets(session: Session) -> list[Sample]:
    rows = session.execute(
        select(Ticket.level, func.count())
        .where(Ticket.status.not_in(CLOSED))
        .group_by(Ticket.level)
    )
    by_level = {str(level): int(count) for level, count in rows}
    return [
        Sample(
            "franchise_tickets_open",
            "gauge",
            "Tickets not resolved or closed, by level.",
            [({"level": lv}, n) for lv, n in sorted(by_level.items())],
        ),
        # A ticket at the owner's level is an ask waiting on the owner: the number to keep low.
        Sample(
            "franchise_owner_waiting_tickets",
            "gauge",
            "Open tickets escalated to the owner, waiting on them.",
            [({}, by_level.get("owner", 0))],
        ),
    ]


def _approvals(session: Session, now: datetime) -> list[Sample]:
    pending = ApprovalRequest.status == "pending"
    rows = session.execute(
        select(ApprovalRequest.approver_level, func.count())
        .where(pending)
        .group_by(ApprovalRequest.approver_level)
    )
    by_level = {str(level or "none"): int(count) for level, count in rows}
    oldest = session.scalar(select(func.min(ApprovalRequest.created_at)).where(pending))
    oldest_owner = session.scalar(
        select(func.min(ApprovalRequest.created_at)).where(
            pending, ApprovalRequest.approver_level == "owner"
        )
    )
    return [
        Sample(
            "franchise_approvals_pending",
            "gauge",
            "Approval requests waiting for a decision, by who must approve.",
            [({"approver_level": lv}, n) for lv, n in sorted(by_level.items())],
        ),
        Sample(
            "franchise_approvals_pending_oldest_seconds",
            "gauge",
            "Age of the oldest approval request waiting; 0 when none waits.",
            [({}, _age(now, oldest))],
        ),
        Sample(
            "franchise_owner_approvals_oldest_seconds",
            "gauge",
            "Age of the oldest approval waiting on the owner; 0 when none waits.",
            [({}, _age(now, oldest_owner))],
        ),
    ]


def _workers(session: Session, now: datetime) -> Sample:
    rows = session.execute(
        select(WorkerHeartbeat.kind, func.count())
        .where(WorkerHeartbeat.seen_at >= now - ALIVE_FOR)
        .group_by(WorkerHeartbeat.kind)
    )
    alive = {"worker": 0, "serve-on": 0, "serve-auto": 0}
    alive.update({str(kind): int(count) for kind, count in rows})
    return Sample(
        "franchise_inbox_processors_alive",
        "gauge",
        "Processes draining the alert inbox (dedicated workers, in-process drainers).",
        [({"kind": k}, n) for k, n in sorted(alive.items())],
    )


def _age(now: datetime, since: datetime | None) -> float:
    return round(max(0.0, (now - since).total_seconds()), 3) if since is not None else 0.0
