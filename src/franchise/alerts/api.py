"""Alert webhooks: POST /hooks/{kind}/{token} (or the X-Franchise-Token header).

The handler does the least it can: parse the body (to refuse a malformed one at once), have
it stored, answer 202. Storing goes through the IntakeWriter (intake.py), which commits the
bodies of concurrent webhooks together; the integration is found by its token (cached).
Tickets are made afterwards by the in-process drainer or by `franchise worker`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match, Route
from starlette.types import Scope

from franchise.alerts.inbox import Accepted, Received, receive, store
from franchise.alerts.intake import IntakeWriter
from franchise.alerts.limits import RateLimiter, check_alert_count
from franchise.alerts.service import TokenCache, check_kind
from franchise.alerts.worker import Drainer, IntakeGate
from franchise.db import Database
from franchise.errors import NotAuthenticated, error_body
from franchise.integrations import KINDS, load_json
from franchise.integrations.normalized import MalformedPayload
from franchise.integrations.pagerduty.parser import routing_key
from franchise.ops.heartbeat import warn_if_both_drain


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the in-process drainer unless dedicated workers do the processing."""
    db = app.state.db
    settings = app.state.settings
    drainer = writer = None
    # Webhook writes go first (see IntakeGate): on SQLite for its single write lock, and on
    # every database for the process's CPU, so a storm is taken in before it is processed.
    gate = app.state.alert_intake_gate = IntakeGate()
    # On SQLite every request's unit of work goes first as well: each transaction takes the
    # one write lock, which the drainer would otherwise take back transaction after
    # transaction while a request waits seconds. PostgreSQL locks rows, so there requests
    # and the drainer work side by side. Left unset for a Connection-bound database, which
    # has no drainer.
    if not isinstance(db.bind, Connection) and db.dialect == "sqlite":
        db.turns = gate
    # A Connection-bound database (the tests' rolled-back transaction) cannot be shared
    # with a thread; such an app stores each webhook in the request's own transaction and
    # processes the inbox only when told to.
    if not isinstance(db.bind, Connection):
        writer = IntakeWriter(db, _cache(app), gate=gate)
        writer.start()
        mode = settings.inprocess_mode
        if mode != "off":
            warn_if_both_drain(db, mode)
            drainer = Drainer(db, gate=gate, mode=mode)
            drainer.start()
    app.state.alert_intake_writer = writer
    app.state.alert_drainer = drainer
    try:
        yield
    finally:
        if writer is not None:
            writer.stop()
        if drainer is not None:
            drainer.stop()


router = APIRouter(tags=["alerts"], lifespan=lifespan)

TokenHeader = Annotated[
    str | None,
    Header(alias="X-Franchise-Token", description="The integration token, if not in the URL."),
]


@router.post("/hooks/{kind}/{token}", status_code=202)
async def hook_with_token(kind: str, token: str, request: Request) -> JSONResponse:
    """Receive a webhook; the integration token is the last part of the URL."""
    return await _receive(request, kind, token)


@router.post("/hooks/{kind}", status_code=202)
async def hook(kind: str, request: Request, x_franchise_token: TokenHeader = None) -> JSONResponse:
    """Receive a webhook; the token is in X-Franchise-Token (or, for PagerDuty, routing_key)."""
    return await _receive(request, kind, x_franchise_token)


def plain_routes(prefix: str) -> list[Route]:
    """The webhook routes as plain Starlette routes, for the app to match before all others.
    In a storm of one-alert webhooks FastAPI's per-request work (matching through the
    included routers, solving the path and header parameters) was a third of each webhook's
    cost on the server. The FastAPI routes above stay for the OpenAPI document and for an
    unknown format (refused by `check_kind`); errors are rendered by the app's handlers all
    the same, and the paths (the metrics' route label) are the same."""
    return [
        _HookRoute(f"{prefix}/hooks/{{kind}}/{{token}}", _plain_hook, methods=["POST"]),
        _HookRoute(f"{prefix}/hooks/{{kind}}", _plain_hook, methods=["POST"]),
    ]


class _HookRoute(Route):
    """Matches the alert formats only: another /hooks/ path (Slack's interactions, an
    unknown format) goes on to its own route. Names itself in the scope, as FastAPI's
    routes do, for the request metrics' route label."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is Match.NONE:
            return match, child
        if child["path_params"]["kind"] not in KINDS:
            return Match.NONE, {}
        return match, {**child, "route": self}


async def _plain_hook(request: Request) -> JSONResponse:
    params = request.path_params
    token = params.get("token") or request.headers.get("x-franchise-token")
    return await _receive(request, params["kind"], token)


async def _receive(request: Request, kind: str, token: str | None) -> JSONResponse:
    check_kind(kind)
    body = await request.body()
    if not token and kind == "pagerduty":
        # The one format whose token is inside the body; load_json refuses a deep body.
        try:
            token = routing_key(load_json(body))
        except MalformedPayload:
            token = None
    if not token:
        raise NotAuthenticated(
            "send the integration token in the URL (/hooks/{kind}/{token}) "
            "or the X-Franchise-Token header"
        )
    # The token is checked before the body is parsed: nobody without one makes the server
    # decode anything (a cached token costs no query; an unknown one, one short read).
    cache = _cache(request.app)
    cached = cache.get(token)
    if cached is None or cached.kind != kind:
        integration_id = await run_in_threadpool(_authenticate, request.app, kind, token)
    else:
        integration_id = cached.id
    received = receive(kind, body, request.headers, request.client.host if request.client else None)
    settings = request.app.state.settings
    check_alert_count(received.alerts, settings.alerts_max_per_body)
    _limiter(request.app).take(integration_id, received.alerts)
    writer: IntakeWriter | None = getattr(request.app.state, "alert_intake_writer", None)
    if writer is not None:
        accepted = await writer.submit(kind, token, received)
    else:
        accepted = await run_in_threadpool(_store, request.app, kind, token, received)
    if accepted.error:
        return JSONResponse(
            error_body(
                MalformedPayload.status,
                f"malformed {kind} payload: {accepted.error}",
                [{"message": accepted.error, "inbox_id": accepted.inbox_id}],
                code=MalformedPayload.code,
            ),
            status_code=MalformedPayload.status,
        )
    drainer = getattr(request.app.state, "alert_drainer", None)
    if drainer is not None:
        drainer.wake()
    data: dict[str, Any] = {
        "ok": True,
        "inbox_id": accepted.inbox_id,
        "alerts": accepted.alerts,
    }
    if kind == "pagerduty":
        # What PagerDuty's Events API answers, for senders that check it.
        data.update(status="success", message="Event processed")
        if received.key is not None:
            data["dedup_key"] = received.key
    return JSONResponse(data, status_code=202)


def _store(app: FastAPI, kind: str, token: str, received: Received) -> Accepted:
    """One webhook in its own transaction: for an app without the writer thread."""
    db: Database = app.state.db
    with db.unit_of_work() as session:
        return store(session, _cache(app).integration_id(session, kind, token), received)


def _authenticate(app: FastAPI, kind: str, token: str) -> int:
    db: Database = app.state.db
    with db.unit_of_work() as session:
        return _cache(app).integration_id(session, kind, token)


def _limiter(app: FastAPI) -> RateLimiter:
    limiter = getattr(app.state, "alert_rate_limiter", None)
    if limiter is None:
        limiter = RateLimiter(app.state.settings.alerts_rate_per_minute)
        app.state.alert_rate_limiter = limiter
    assert isinstance(limiter, RateLimiter)
    return limiter


def _cache(app: FastAPI) -> TokenCache:
    cache = getattr(app.state, "alert_token_cache", None)
    if cache is None:
        cache = TokenCache()
        app.state.alert_token_cache = cache
    assert isinstance(cache, TokenCache)
    return cache
