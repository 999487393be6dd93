"""Typed errors. Services raise these; the API, pages and CLI render them in one place each."""

from __future__ import annotations

from typing import Any

UNSTORABLE = "a value is out of range or has characters the database cannot store"


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
        return {"ok": False, "error": self.message, "errors": self.errors, "status": self.status}


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


class LimitExceeded(FranchiseError):
    code = "limit_exceeded"
    status = 403


class Refused(FranchiseError):
    """The rules say no (e.g. escalation before the runbook's checks are done)."""

    code = "refused"
    status = 409


class Unavailable(FranchiseError):
    """Busy or restarting for a moment; the request may be sent again shortly."""

    code = "unavailable"
    status = 503
    retry_after = 5
