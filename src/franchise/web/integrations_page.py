"""The Integrations page (owner/admin): alert webhooks for monitoring and RMM tools, the
mappings that give their alerts a client, and the inbox bodies that did not become tickets.

A new integration's token is shown once, in the answer to the request that created it; only
its hash is stored, so no later page can show it again.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.alerts.overview import (
    integration_rows,
    kind_name,
    mapping_rows,
    recent_problems,
)
from franchise.alerts.present import hook_url
from franchise.alerts.service import (
    TokenCache,
    add_integration,
    add_mapping,
    delete_mapping,
    get_integration,
    list_mappings,
    revoke_integration,
)
from franchise.api.after_commit import AfterCommit
from franchise.api.deps import DbSession
from franchise.clients.service import list_clients
from franchise.db import MAX_ID
from franchise.errors import FranchiseError, InvalidInput, NotFound
from franchise.integrations import KINDS
from franchise.orgsettings.secrets import effective_settings
from franchise.web.auth import ManagerUser, check_csrf
from franchise.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)])
BLANK_INTEGRATION = {
    "kind": "alertmanager",
    "name": "",
    "client": "",
    "group_by": "group",
    "auto_resolve": "",
}
BLANK_MAPPING = {"client": "", "label": "", "host_pattern": "", "integration": ""}
SAVED = {
    "mapping-added": "Mapping added: it applies to alerts from the next webhook on.",
    "mapping-deleted": "Mapping deleted.",
}


def _page(
    request: Request,
    session: Session,
    *,
    form: dict[str, str] | None = None,
    add_error: str = "",
    mapping_form: dict[str, str] | None = None,
    mapping_error: str = "",
    created: dict[str, Any] | None = None,
    notice: str = "",
    status: int = 200,
) -> Response:
    settings = effective_settings(session, request.app.state.settings)
    rows = integration_rows(session)
    context = {
        "form_key": secrets.token_urlsafe(16),
        "rows": rows,
        "active": [r.integration for r in rows if r.integration.revoked_at is None],
        "mappings": mapping_rows(session),
        "problems": recent_problems(session),
        "clients": list_clients(session, include_archived=False),
        "kind_names": {kind: kind_name(kind) for kind in KINDS},
        "form": form or BLANK_INTEGRATION,
        "add_error": add_error,
        "mapping_form": mapping_form or BLANK_MAPPING,
        "mapping_error": mapping_error,
        "created": created,
        "notice": notice,
        "base_url": settings.base_url,
        "public_url_set": bool(settings.public_url),
    }
    return render(request, "integrations.html", context, status=status)


@router.get("/integrations")
def integrations_page(
    request: Request, session: DbSession, _user: ManagerUser, saved: str = "", revoked: str = ""
) -> Response:
    """`revoked`: the integration the last request revoked, to say so."""
    notice = SAVED.get(saved, "")
    if revoked.isdecimal() and len(revoked) <= 10 and int(revoked) <= MAX_ID:
        try:
            gone = get_integration(session, int(revoked))
        except NotFound:  # an old or edited address: nothing to say
            gone = None
        if gone is not None and gone.revoked_at is not None:
            notice = f"Revoked “{gone.name}”: webhooks with its token now get 401."
    return _page(request, session, notice=notice)


@router.post("/integrations")
def integration_add(
    request: Request,
    session: DbSession,
    _user: ManagerUser,
    kind: Annotated[str, Form(max_length=32)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    client: Annotated[str, Form(max_length=20)] = "",
    group_by: Annotated[str, Form(max_length=16)] = "group",
    # A checkbox: the browser sends nothing when it is unticked.
    auto_resolve: Annotated[str, Form(max_length=10)] = "",
    form_key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """The answer shows the webhook URL and token once; only the token's hash is stored."""
    sent = _sent_forms(request)
    before = sent.added(form_key)
    if before is not None:
        return _page(
            request,
            session,
            notice=f"“{before}” was added already: this was the same form sent again (a "
            "reload or Back). Its token was shown once; if it was not copied, revoke the "
            "integration and add a new one.",
        )
    form = {
        "kind": kind,
        "name": name,
        "client": client,
        "group_by": group_by,
        "auto_resolve": auto_resolve,
    }
    try:
        integration, token = add_integration(
            session,
            kind=kind,
            name=name.strip() or None,
            client=client.strip() or None,
            auto_resolve=auto_resolve == "yes",
            group_by=group_by,
        )
    except FranchiseError as exc:
        return _page(request, session, form=form, add_error=exc.message, status=exc.status)
    sent.remember(form_key, integration.name)
    base = effective_settings(session, request.app.state.settings).base_url
    created = {
        "name": integration.name,
        "kind": integration.kind,
        "kind_name": kind_name(integration.kind),
        "url": hook_url(base, integration.kind, token),
        "token": token,
        "header_url": f"{base.rstrip('/')}/api/v1/hooks/{integration.kind}",
    }
    return _page(request, session, created=created, status=201)


class SentForms:
    """The add forms this process has acted on, for a while: the answer to adding is the only
    page that shows the token, so a reload of it sends the form again; that must not add a
    second integration with a second token."""

    KEEP = 900.0  # seconds
    MOST = 1000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._added: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def added(self, key: str) -> str | None:
        if not key:
            return None
        with self._lock:
            self._forget_old()
            found = self._added.get(key)
        return found[0] if found else None

    def remember(self, key: str, name: str) -> None:
        if not key:
            return
        with self._lock:
            self._added[key] = (name, time.monotonic())
            self._forget_old()

    def _forget_old(self) -> None:
        limit = time.monotonic() - self.KEEP
        while self._added and (
            len(self._added) > self.MOST or next(iter(self._added.values()))[1] < limit
        ):
            self._added.popitem(last=False)


def _sent_forms(request: Request) -> SentForms:
    found = getattr(request.app.state, "integration_forms", None)
    if not isinstance(found, SentForms):
        found = request.app.state.integration_forms = SentForms()
    return found


@router.post("/integrations/{integration_id}/revoke")
def integration_revoke(
    request: Request,
    session: DbSession,
    _user: ManagerUser,
    integration_id: int,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Without `confirm=yes` this only says what revoking does, with a second button that does
    it: a revoked token cannot be brought back, so one stray click must not revoke it."""
    integration = get_integration(session, integration_id)
    if confirm != "yes" and integration.revoked_at is None:
        row = next(r for r in integration_rows(session) if r.integration.id == integration.id)
        context = {
            "row": row,
            "kind_name": kind_name(integration.kind),
            "mappings": sum(
                1 for m in list_mappings(session) if m.integration_id == integration.id
            ),
        }
        return render(request, "integration_revoke.html", context)
    revoke_integration(session, integration_id)
    return AfterCommit(lambda: _after_revoke(request, integration_id))


def _after_revoke(request: Request, integration_id: int) -> Response:
    # The webhook route keeps known-good tokens for 30 s (alerts.api). Once the revocation is
    # committed this process forgets them, so the token is refused here from the next request;
    # other server processes refuse it when their entry runs out.
    cache = getattr(request.app.state, "alert_token_cache", None)
    if isinstance(cache, TokenCache):
        cache.clear()
    return RedirectResponse(f"/integrations?revoked={integration_id}", status_code=303)


def _integration_choice(raw: str) -> int | None:
    text = raw.strip()
    if not text:
        return None
    if not text.isdecimal() or int(text) > MAX_ID:
        raise InvalidInput("Integration: choose one from the list, or all integrations")
    return int(text)


@router.post("/integrations/mappings")
def mapping_add(
    request: Request,
    session: DbSession,
    _user: ManagerUser,
    client: Annotated[str, Form(max_length=20)] = "",
    label: Annotated[str, Form(max_length=400)] = "",
    host_pattern: Annotated[str, Form(max_length=255)] = "",
    integration: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    form = {
        "client": client,
        "label": label,
        "host_pattern": host_pattern,
        "integration": integration,
    }
    try:
        if not client.strip():
            raise InvalidInput("Client: choose the client these alerts belong to")
        add_mapping(
            session,
            client=client,
            label=label.strip() or None,
            host_pattern=host_pattern.strip() or None,
            integration_id=_integration_choice(integration),
        )
    except FranchiseError as exc:
        return _page(
            request, session, mapping_form=form, mapping_error=exc.message, status=exc.status
        )
    return RedirectResponse("/integrations?saved=mapping-added#mappings", status_code=303)


@router.post("/integrations/mappings/{mapping_id}/delete")
def mapping_delete(
    request: Request, session: DbSession, _user: ManagerUser, mapping_id: int
) -> Response:
    delete_mapping(session, mapping_id)
    return RedirectResponse("/integrations?saved=mapping-deleted#mappings", status_code=303)
