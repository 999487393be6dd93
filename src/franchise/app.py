"""The web application: create_app(settings) wires routers, error handlers and limits."""

from __future__ import annotations

import ctypes
import gc
import logging
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from franchise import __version__
from franchise.db import Database, is_unstorable
from franchise.errors import UNSTORABLE, FranchiseError, error_body
from franchise.ops.metrics import LatencyHistogram, LatencyMiddleware
from franchise.settings import Settings
from franchise.web.setup import install_web

log = logging.getLogger(__name__)


UPLOAD_PATH = re.compile(r"(/api/v1)?/tickets/\d+/notes")


class BodyLimit:
    """Refuse bodies over the limit with 413 before anything reads them into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int, upload_max_bytes: int = 0) -> None:
        self.app = app
        self.default_max = max_bytes
        # Note uploads carry files up to the attachment limit, plus the form around them.
        self.upload_max = max(max_bytes, upload_max_bytes + 65_536)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = (
            self.upload_max if UPLOAD_PATH.fullmatch(scope.get("path", "")) else self.default_max
        )
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        # A chunked body has no declared length: read it here, up to the limit, and replay it.
        # (Raising from inside the app's own body read would be turned into a 400 by FastAPI.)
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > limit:
                await self._refuse(send, limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, limit: int) -> None:
        response = JSONResponse(error_body(413, f"request body over {limit} bytes"), 413)
        await response({"type": "http"}, _empty_receive, send)


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Loaded beside the first requests rather than inside the first one that suggests.
    freeze = bool(getattr(app.state, "freeze_after_warm_up", False))
    threading.Thread(target=_warm_up, args=(app, freeze), name="warm-up", daemon=True).start()
    sender = None
    # A Connection-bound database (the tests' rolled-back transaction) cannot be shared with
    # a thread; there the request's own attempt is the only one.
    if not isinstance(app.state.db.bind, Connection):
        from franchise.flows.sender import Sender

        sender = Sender(app.state.db, app.state.settings)
        sender.start()
    app.state.outbox_sender = sender
    try:
        yield
    finally:
        if sender is not None:
            sender.stop()


def _warm_up(app: FastAPI, freeze: bool) -> None:
    from franchise.suggest.service import warm_up

    db: Database = app.state.db
    try:
        warm_up(db if not isinstance(db.bind, Connection) else None)
    except Exception:  # the database may be down; the first suggestion builds the index
        log.exception("preparing the suggest index at start failed")
    if freeze:
        # What start-up loaded (the framework, SQLAlchemy, numpy, the suggest index)
        # lives as long as the server: frozen, the garbage collector stops walking it again
        # and again while requests allocate.
        gc.collect()
        gc.freeze()
        _release_freed_memory()


def _release_freed_memory() -> None:
    """Hand back to the system the memory start-up freed (the index build's temporaries, the
    first queries' rows) that glibc's malloc keeps for reuse: idle resident memory is what an
    operator sees. glibc only (musl and macOS have no malloc_trim, and do not need it)."""
    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        lifespan=_lifespan,
        title="Franchise",
        version=__version__,
        description="Runbooks, escalation map, approval boundaries and the owner-interruptions KPI.",
        openapi_url="/openapi.json",
        # /docs is served from vendored files (api/docs.py); ReDoc would load from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db or Database.from_url(settings.resolved_database_url)
    _install_error_handlers(app)
    _install_routes(app)
    install_web(app)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        upload_max_bytes=settings.attachment_max_bytes,
    )
    # Outermost, so a refused body (413) is timed too.
    app.state.latency = LatencyHistogram()
    app.add_middleware(LatencyMiddleware, histogram=app.state.latency)
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn (`franchise serve`): settings from the environment."""
    settings = Settings()
    if settings.log_format == "json":
        # uvicorn run directly (not through `franchise serve`) logs as configured here.
        from franchise.ops.logs import configure_logging

        configure_logging("json")
    app = create_app(settings)
    app.state.freeze_after_warm_up = True  # a server process, not a test's app
    return app


def _install_routes(app: FastAPI) -> None:
    from franchise.accounts import api as accounts_api
    from franchise.alerts import api as alerts_api
    from franchise.api import docs, health
    from franchise.approvals import api as approvals_api
    from franchise.ask import api as ask_api
    from franchise.audit import api as audit_api
    from franchise.clients import api as clients_api
    from franchise.contacts import api as contacts_api
    from franchise.drills import api as drills_api
    from franchise.duty import api as duty_api
    from franchise.escalation import api as escalation_api
    from franchise.lessons import api as lessons_api
    from franchise.messages import api as messages_api
    from franchise.ops import api as ops_api
    from franchise.orgsettings import api as settings_api
    from franchise.people import api as people_api
    from franchise.psa.connectors import api as psa_api
    from franchise.runbooks import api as runbooks_api
    from franchise.suggest import api as suggest_api
    from franchise.tickets import api as tickets_api
    from franchise.tickets import runbook_api as ticket_runbook_api

    # Routes are matched in order: the webhooks, the busiest by far in a storm, go first.
    app.include_router(people_api.hooks, prefix="/api/v1")
    app.include_router(psa_api.router, prefix="/api/v1")
    app.include_router(alerts_api.router, prefix="/api/v1")
    app.include_router(health.router, prefix="/api/v1")
    app.include_router(ops_api.router)
    app.include_router(runbooks_api.router, prefix="/api/v1")
    app.include_router(suggest_api.router, prefix="/api/v1")
    app.include_router(tickets_api.router, prefix="/api/v1")
    app.include_router(clients_api.router, prefix="/api/v1")
    app.include_router(duty_api.router, prefix="/api/v1")
    app.include_router(ticket_runbook_api.router, prefix="/api/v1")
    app.include_router(approvals_api.router, prefix="/api/v1")
    app.include_router(escalation_api.router, prefix="/api/v1")
    app.include_router(messages_api.router, prefix="/api/v1")
    app.include_router(contacts_api.router, prefix="/api/v1")
    app.include_router(settings_api.router, prefix="/api/v1")
    app.include_router(lessons_api.router, prefix="/api/v1")
    app.include_router(audit_api.router, prefix="/api/v1")
    app.include_router(ask_api.router, prefix="/api/v1")
    app.include_router(drills_api.router, prefix="/api/v1")
    app.include_router(people_api.router, prefix="/api/v1")
    app.include_router(accounts_api.router, prefix="/api/v1")
    app.include_router(docs.router)
    # The alert webhooks once more, first of all and without FastAPI's per-request work:
    # a storm sends tens of thousands (see alerts.api.plain_routes).
    app.router.routes[0:0] = alerts_api.plain_routes("/api/v1")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FranchiseError)
    async def franchise_error(_request: Request, exc: FranchiseError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return JSONResponse(error_body(422, f"invalid request: {summary}", errors), status_code=422)

    @app.exception_handler(OperationalError)
    async def database_unavailable(_request: Request, _exc: OperationalError) -> JSONResponse:
        # The database is down or restarting: tell clients to retry rather than fail hard.
        return JSONResponse(
            error_body(503, "database unavailable; retry shortly"),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(IntegrityError)
    async def integrity_conflict(_request: Request, _exc: IntegrityError) -> JSONResponse:
        # A uniqueness race the services' own checks could not see (two saves at once):
        # nothing was stored by the losing request, which may reload and try again.
        message = "someone else changed this at the same moment; reload and try again"
        return JSONResponse(error_body(409, message), status_code=409)

    @app.exception_handler(DataError)
    @app.exception_handler(StatementError)
    @app.exception_handler(OverflowError)
    async def unstorable_value(_request: Request, exc: Exception) -> JSONResponse:
        if not is_unstorable(exc):
            raise exc
        return JSONResponse(error_body(422, UNSTORABLE), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            error_body(exc.status_code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
