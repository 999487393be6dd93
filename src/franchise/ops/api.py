"""GET /metrics (Prometheus, behind a token) and GET /api/v1/ready (readiness)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from franchise.alerts.gauges import inbox_gauges
from franchise.approvals.gauges import approval_gauges
from franchise.db import Database, utcnow
from franchise.errors import NotAuthenticated, NotFound
from franchise.ops.gauges import worker_gauge
from franchise.ops.metrics import LatencyHistogram, Sample, render_samples
from franchise.ops.readiness import check_ready
from franchise.tickets.gauges import ticket_gauges

router = APIRouter(tags=["operations"])
# The version of the text format Prometheus negotiates by default.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/api/v1/ready")
def ready(request: Request) -> JSONResponse:
    """Readiness: 503 while the database is unreachable, a migration runs or the schema is
    behind; a load balancer sends traffic elsewhere meanwhile. Liveness is /api/v1/health."""
    report: dict[str, Any] = check_ready(request.app.state.db)
    return JSONResponse(
        {"ok": report["ready"], **report}, status_code=200 if report["ready"] else 503
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> PlainTextResponse:
    expected: str = request.app.state.settings.metrics_token
    if not expected:
        raise NotFound("metrics are off: set FRANCHISE_METRICS_TOKEN to turn them on")
    sent = request.headers.get("authorization", "")
    scheme, _, token = sent.partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip(), expected):
        raise NotAuthenticated("send the metrics token as 'Authorization: Bearer <token>'")
    histogram: LatencyHistogram = request.app.state.latency
    lines = await run_in_threadpool(_database_lines, request.app.state.db)
    return PlainTextResponse(
        "\n".join([*lines, *histogram.render()]) + "\n", media_type=CONTENT_TYPE
    )


def _database_lines(db: Database) -> list[str]:
    with db.unit_of_work() as session:
        return render_samples(collect(session))


def collect(session: Session, *, now: datetime | None = None) -> list[Sample]:
    """The numbers an MSP watches Franchise by, read from the database in a few aggregates:
    the same answer whichever server process is scraped."""
    now = now or utcnow()
    return [
        *inbox_gauges(session, now),
        *ticket_gauges(session),
        *approval_gauges(session, now),
        worker_gauge(session, now),
    ]
