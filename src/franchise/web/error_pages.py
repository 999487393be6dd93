"""Errors on browser routes become pages; API routes keep the JSON handlers create_app set."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from franchise.accounts.sessions import find_session
from franchise.api.deps import get_db
from franchise.errors import FranchiseError, error_body
from franchise.web.auth import SESSION_COOKIE, EnrolmentRequired, LoginRequired
from franchise.web.templating import render

MACHINE_PREFIXES = ("/api/", "/docs", "/redoc", "/openapi.json", "/static/")

Handler = Callable[[Request, Any], Any]


def is_page_request(request: Request) -> bool:
    """A browser page wants an error page; the API, and the pages' own scripts posting JSON
    (passkeys), want the JSON error they can show."""
    if request.headers.get("content-type", "").startswith("application/json"):
        return False
    return not request.url.path.startswith(MACHINE_PREFIXES)


def install_error_pages(app: FastAPI) -> None:
    json_handlers: dict[Any, Handler] = dict(app.exception_handlers)

    async def as_json(request: Request, exc: Exception, kind: type[Exception]) -> Response:
        handler = json_handlers.get(kind)
        if handler is None:
            status = getattr(exc, "status", getattr(exc, "status_code", 500))
            return JSONResponse(error_body(status, str(exc)), status)
        result = handler(request, exc)
        response: Response = await result if inspect.isawaitable(result) else result
        return response

    @app.exception_handler(FranchiseError)
    async def franchise_error(request: Request, exc: FranchiseError) -> Response:
        if not is_page_request(request):
            return await as_json(request, exc, FranchiseError)
        return await run_in_threadpool(error_page, request, exc.status, exc.message, exc.errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not is_page_request(request):
            return await as_json(request, exc, StarletteHTTPException)
        not_found = exc.status_code == 404
        message = "There is no page at this address." if not_found else str(exc.detail)
        return await run_in_threadpool(error_page, request, exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if not is_page_request(request):
            return await as_json(request, exc, RequestValidationError)
        errors = [
            {"field": str(e.get("loc", ("",))[-1]), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        message = "Some of what was sent is not valid."
        return await run_in_threadpool(error_page, request, 422, message, errors)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = "/login?" + urlencode({"next": exc.next_url})
        if request.headers.get("hx-request"):
            # htmx would swap a redirected login page into a fragment; send the whole tab.
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(EnrolmentRequired)
    async def enrolment_required(request: Request, _exc: EnrolmentRequired) -> Response:
        target = "/account?enrol=1"
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)


def error_page(
    request: Request, status: int, message: str, errors: list[dict[str, Any]] | None = None
) -> Response:
    """The error page; may read the database, so handlers run it in the threadpool."""
    _recognise_user(request)
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    context = {"status": status, "title": title, "message": message, "errors": errors or []}
    return render(request, "error.html", context, status=status)


def _recognise_user(request: Request) -> None:
    """Errors raised before any guard ran (an unknown URL) still show the signed-in layout."""
    if hasattr(request.state, "signed_in"):
        return
    plain = request.cookies.get(SESSION_COOKIE)
    request.state.signed_in = None
    if plain:
        with get_db(request).unit_of_work() as session:
            request.state.signed_in = find_session(session, plain)
