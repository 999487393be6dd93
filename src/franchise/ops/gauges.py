"""The roll call's number for /metrics: the processes draining the alert inbox.

Each domain reports its own numbers (alerts.gauges, tickets.gauges, approvals.gauges); the
/metrics route (ops.api) gathers them, so ops reads no other package's tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.ops.heartbeat import ALIVE_FOR
from franchise.ops.metrics import Sample
from franchise.ops.models import WorkerHeartbeat


def worker_gauge(session: Session, now: datetime) -> Sample:
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
