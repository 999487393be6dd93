"""The alert inbox's numbers for /metrics: items by state, depth, lag, and what was done."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.alerts.models import INBOX_STATES, InboxItem
from franchise.ops.metrics import Sample

WAITING = ("pending", "processing")


def inbox_gauges(session: Session, now: datetime) -> list[Sample]:
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
