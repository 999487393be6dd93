"""Typed errors. Services raise these; the API, pages and CLI render them in one place each."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

UNSTORABLE = "a value is out of range or has characters the database cannot store"


def error_body(
    status: int, message: str, errors: list[Any] | None = None, *, code: str | None = None
) -> dict[str, Any]:
    """The one error shape every JSON answer uses; clients key on `code` (stable words),
    people read `error`. Errors raised outside Franchise (HTTP, request validation) take
    the code of the Franchise error with the same status."""
    return {
        "ok": False,
        "error": message,
        "errors": errors or [],
        "status": status,
        "code": code or code_for_status(status),
    }


def code_for_status(status: int) -> str:
    known = STATUS_CODES.get(status)
    if known is not None:
        return known
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


class FranchiseError(Exception):
    """A mistake or refusal the user can act on; never rendered as a traceback."""

    code = "error"
    status = 400
    exit_code = 1
    # Seconds a client should wait before trying again (sent as Retry-After), if it may.
    retry_after: int | None = None

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []

    def to_dict(self) -> dict[str, Any]:
        return error_body(self.status, self.message, self.errors, code=self.code)


class InvalidInput(FranchiseError):
    code = "invalid_input"
    status = 422
    exit_code = 2


class NotFound(FranchiseError):
    code = "not_found"
    status = 404


class Conflict(FranchiseError):
    code = "conflict"
    status = 409


class NotAuthenticated(FranchiseError):
    code = "not_authenticated"
    status = 401


class PermissionDenied(FranchiseError):
    code = "permission_denied"
    status = 403


class Refused(FranchiseError):
    """The rules say no (e.g. escalation before the runbook's checks are done). The same
    409 as Conflict, told apart by `code`: a conflict goes away on reload and retry, a
    refusal only once the rule is satisfied."""

    code = "refused"
    status = 409


class Unavailable(FranchiseError):
    """Busy or restarting for a moment; the request may be sent again shortly."""

    code = "unavailable"
    status = 503
    retry_after = 5


# Codes for statuses raised outside Franchise's own errors; 409 is a conflict there (a
# uniqueness race), never a refusal, which only Franchise raises.
STATUS_CODES = {
    400: "bad_request",
    401: NotAuthenticated.code,
    403: PermissionDenied.code,
    404: NotFound.code,
    409: Conflict.code,
    413: "too_large",
    422: InvalidInput.code,
    429: "too_many_requests",
    503: Unavailable.code,
}
