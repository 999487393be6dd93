"""Request plumbing shared by API routes: the unit of work and the signed-in staff member."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import authenticate_token
from franchise.db import Database
from franchise.errors import NotAuthenticated, PermissionDenied


def get_db(request: Request) -> Database:
    db = request.app.state.db
    assert isinstance(db, Database)
    return db


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent."""
    with get_db(request).unit_of_work() as session:
        session.info["franchise_settings"] = request.app.state.settings
        yield session


# scope="function": the commit happens before the response goes out, so a failed commit
# becomes an error response instead of a lost write behind a 200.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
_bearer = HTTPBearer(auto_error=False, description="An API token from `franchise token create`.")


def get_current_staff(
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Staff:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("send an API token as 'Authorization: Bearer <token>'")
    return authenticate_token(session, credentials.credentials)


CurrentStaff = Annotated[Staff, Depends(get_current_staff)]


def require_manager(staff: CurrentStaff) -> Staff:
    if not staff.is_manager:
        raise PermissionDenied("only the owner or an admin may do this")
    return staff


Manager = Annotated[Staff, Depends(require_manager)]


def require_runbook_maintainer(staff: CurrentStaff) -> Staff:
    """Runbooks are maintained by L2 (and the owner and admins); L1 sends lessons instead."""
    if not (staff.is_manager or staff.level in ("L2", "owner")):
        raise PermissionDenied(
            "only L2, the owner or an admin may change runbooks; add a lesson instead"
        )
    return staff


RunbookMaintainer = Annotated[Staff, Depends(require_runbook_maintainer)]


def require_client_writer(staff: CurrentStaff) -> Staff:
    """Clients and their contacts are kept by the owner, admins and service managers."""
    from franchise.clients.service import check_writer

    check_writer(staff.role)
    return staff


ClientWriter = Annotated[Staff, Depends(require_client_writer)]
