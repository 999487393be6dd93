"""GET /metrics (Prometheus, behind a token) and GET /api/v1/ready (readiness)."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from franchise.db import Database
from franchise.errors import NotAuthenticated, NotFound
from franchise.ops.gauges import collect
from franchise.ops.metrics import LatencyHistogram, render_samples
from franchise.ops.readiness import check_ready

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
