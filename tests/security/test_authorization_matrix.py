"""Every route and page, for anonymous, L1, L2, owner, admin and a revoked token.

The expected table lives here: a route added without an entry fails the test, so every new
route is a decision about who may use it. "Allowed" means the auth gate lets the request
through (it may still be refused by the service, e.g. 404 for the made-up id or 422 for the
empty body); "denied" means 401/403, or for pages a redirect to the sign-in page. No
request may end in a 5xx.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from franchise.accounts.service import add_staff, create_token, revoke_token
from franchise.accounts.sessions import start_session
from franchise.app import create_app
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.settings import Settings
from franchise.tickets.service import create_ticket
from franchise.web.auth import SESSION_COOKIE

ROLES = ("anonymous", "L1", "L2", "owner", "admin", "revoked")

# Who the gate lets through, by class.
PUBLIC = {"anonymous", "L1", "L2", "owner", "admin", "revoked"}
STAFF = {"L1", "L2", "owner", "admin"}
MAINTAINER = {"L2", "owner", "admin"}
MANAGER = {"owner", "admin"}
# Alert webhooks take an integration token, never a staff token or session.
INTEGRATION: set[str] = set()

EXPECTED: dict[tuple[str, str], set[str]] = {
    # --- API ------------------------------------------------------------------------------
    ("GET", "/api/v1/health"): PUBLIC,
    # Readiness is for load balancers, like health. /metrics answers 404 to everyone until a
    # scrape token is set, then only to that token (tests/ops/test_metrics.py).
    ("GET", "/api/v1/ready"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/api/v1/approvals"): STAFF,
    ("GET", "/api/v1/approvals/{request_id}"): STAFF,
    ("POST", "/api/v1/approvals/{request_id}/decision"): STAFF,
    ("GET", "/api/v1/audit"): STAFF,
    ("GET", "/api/v1/boundaries"): STAFF,
    ("PUT", "/api/v1/boundaries"): MANAGER,
    ("GET", "/api/v1/contacts"): STAFF,
    ("POST", "/api/v1/contacts"): STAFF,
    ("POST", "/api/v1/drills"): MANAGER,
    ("GET", "/api/v1/drills/status"): STAFF,
    ("POST", "/api/v1/drills/{drill_id}/end"): MANAGER,
    ("GET", "/api/v1/drills/{drill_id}/review"): STAFF,
    ("GET", "/api/v1/escalation/map"): STAFF,
    ("PUT", "/api/v1/escalation/map"): MANAGER,
    ("POST", "/api/v1/hooks/{kind}"): INTEGRATION,
    ("POST", "/api/v1/hooks/{kind}/{token}"): INTEGRATION,
    # Slack's button callbacks: signed with the Slack app's signing secret, not a staff login.
    ("POST", "/api/v1/hooks/slack/interactions"): INTEGRATION,
    # The PSA's webhooks: checked against the connection's webhook secret, not a staff login.
    ("POST", "/api/v1/psa/webhooks/{vendor}"): INTEGRATION,
    ("GET", "/api/v1/staff"): STAFF,
    ("PATCH", "/api/v1/staff/{ref}"): MANAGER,
    ("POST", "/api/v1/staff/{ref}/deactivate"): MANAGER,
    ("POST", "/api/v1/staff/{ref}/reactivate"): MANAGER,
    ("POST", "/api/v1/staff/{ref}/reassign"): MANAGER,
    ("POST", "/api/v1/staff/{ref}/reset-link"): MANAGER,
    ("GET", "/api/v1/staff/{ref}/channels"): STAFF,
    ("GET", "/api/v1/me/notices"): STAFF,
    ("POST", "/api/v1/me/notices/{notice_id}/read"): STAFF,
    ("POST", "/api/v1/me/notices/read"): STAFF,
    ("PUT", "/api/v1/staff/{ref}/channels/{kind}"): STAFF,
    ("DELETE", "/api/v1/staff/{ref}/channels/{kind}"): STAFF,
    ("GET", "/api/v1/kpi"): STAFF,
    ("GET", "/api/v1/lessons"): STAFF,
    ("POST", "/api/v1/lessons"): STAFF,
    ("POST", "/api/v1/lessons/{lesson_id}/reject"): STAFF,
    ("POST", "/api/v1/review-items/{item_id}/dispose"): MANAGER,
    ("GET", "/api/v1/reviews/week"): STAFF,
    ("GET", "/api/v1/runbooks"): STAFF,
    ("POST", "/api/v1/runbooks"): MAINTAINER,
    ("GET", "/api/v1/runbooks/{ref}"): STAFF,
    ("GET", "/api/v1/runbooks/{ref}/source"): STAFF,
    ("POST", "/api/v1/runs"): STAFF,
    ("GET", "/api/v1/runs/{run_id}"): STAFF,
    ("POST", "/api/v1/runs/{run_id}/answers"): STAFF,
    ("POST", "/api/v1/runs/{run_id}/back"): STAFF,
    ("POST", "/api/v1/runs/{run_id}/switch"): STAFF,
    ("GET", "/api/v1/duty"): STAFF,
    ("GET", "/api/v1/asks"): STAFF,
    ("POST", "/api/v1/asks/{contact_id}/reply"): STAFF,
    ("POST", "/api/v1/duty"): MANAGER,
    ("DELETE", "/api/v1/duty/{shift_id}"): MANAGER,
    ("POST", "/api/v1/tickets/{ticket_id}/notes"): STAFF,
    # Clients and contacts are kept by the owner, admins and service managers (no service
    # manager in this table: tests/clients/test_api.py checks that role); everyone reads.
    ("GET", "/api/v1/clients"): STAFF,
    ("POST", "/api/v1/clients"): MANAGER,
    ("GET", "/api/v1/clients/{client}"): STAFF,
    ("PATCH", "/api/v1/clients/{client}"): MANAGER,
    ("DELETE", "/api/v1/clients/{client}"): MANAGER,
    ("GET", "/api/v1/clients/{client}/contacts"): STAFF,
    ("POST", "/api/v1/clients/{client}/contacts"): MANAGER,
    ("PATCH", "/api/v1/clients/{client}/contacts/{contact}"): MANAGER,
    ("DELETE", "/api/v1/clients/{client}/contacts/{contact}"): MANAGER,
    ("GET", "/api/v1/clients/{client}/facts"): STAFF,
    ("PUT", "/api/v1/clients/{client}/facts/{key}"): STAFF,
    ("DELETE", "/api/v1/clients/{client}/facts/{key}"): MANAGER,
    ("GET", "/api/v1/clients/{client}/outage"): STAFF,
    ("PUT", "/api/v1/clients/{client}/outage"): MANAGER,
    ("GET", "/api/v1/settings"): STAFF,
    ("PUT", "/api/v1/settings/{key}"): MANAGER,
    ("POST", "/api/v1/suggest"): STAFF,
    ("GET", "/api/v1/templates"): STAFF,
    ("PUT", "/api/v1/templates"): MANAGER,
    ("GET", "/api/v1/tickets"): STAFF,
    ("POST", "/api/v1/tickets"): STAFF,
    ("GET", "/api/v1/tickets/{ticket_id}"): STAFF,
    ("PATCH", "/api/v1/tickets/{ticket_id}"): STAFF,
    ("POST", "/api/v1/tickets/{ticket_id}/approvals"): STAFF,
    ("POST", "/api/v1/tickets/{ticket_id}/ask-owner"): STAFF,
    ("GET", "/api/v1/tickets/{ticket_id}/done"): STAFF,
    ("POST", "/api/v1/tickets/{ticket_id}/done"): STAFF,
    ("POST", "/api/v1/tickets/{ticket_id}/escalate"): STAFF,
    ("GET", "/api/v1/tickets/{ticket_id}/escalation"): STAFF,
    ("GET", "/api/v1/tickets/{ticket_id}/messages"): STAFF,
    ("POST", "/api/v1/tickets/{ticket_id}/messages"): STAFF,
    ("POST", "/api/v1/tickets/{ticket_id}/messages/preview"): STAFF,
    ("POST", "/api/v1/tickets/{ticket_id}/resolve"): STAFF,
    ("PUT", "/api/v1/tickets/{ticket_id}/runbook"): STAFF,
    ("PUT", "/api/v1/tickets/{ticket_id}/category"): STAFF,
    # Any staff gets past the gate; the service then lets only the ticket's assignee, L2 and
    # managers change it (tests/tickets/test_requester_interfaces.py checks who).
    ("PUT", "/api/v1/tickets/{ticket_id}/requester"): STAFF,
    ("GET", "/api/v1/tickets/{ticket_id}/attachments/{attachment_id}"): STAFF,
    # --- pages ----------------------------------------------------------------------------
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/login/mfa"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/login/sso"): PUBLIC,
    ("POST", "/login/passkey/options"): PUBLIC,
    ("POST", "/login/passkey"): PUBLIC,
    ("POST", "/account/passkeys/options"): STAFF,
    ("POST", "/account/passkeys"): STAFF,
    ("GET", "/login/sso/callback"): PUBLIC,
    ("POST", "/login/mfa"): PUBLIC,
    ("GET", "/account"): STAFF,
    ("POST", "/account/totp/start"): STAFF,
    ("POST", "/account/totp/confirm"): STAFF,
    ("POST", "/account/sessions/revoke-all"): STAFF,
    ("POST", "/account/password"): STAFF,
    ("GET", "/"): STAFF,
    ("GET", "/queue"): STAFF,
    ("GET", "/clients"): STAFF,
    ("POST", "/clients"): MANAGER,
    ("GET", "/clients/{client_id}"): STAFF,
    ("POST", "/clients/{client_id}/edit"): MANAGER,
    ("POST", "/clients/{client_id}/archive"): MANAGER,
    ("POST", "/clients/{client_id}/contacts"): MANAGER,
    ("POST", "/clients/{client_id}/contacts/{contact_id}"): MANAGER,
    ("POST", "/clients/{client_id}/contacts/{contact_id}/remove"): MANAGER,
    # Any technician types a profile fact (as in the API); removing one is for managers.
    ("POST", "/clients/{client_id}/facts"): STAFF,
    ("POST", "/clients/{client_id}/facts/remove"): MANAGER,
    ("GET", "/tickets/new"): STAFF,
    ("POST", "/tickets/new"): STAFF,
    ("GET", "/tickets/new/suggest"): STAFF,
    ("GET", "/tickets/new/requesters"): STAFF,
    ("GET", "/tickets/{ticket_id}"): STAFF,
    ("POST", "/tickets/{ticket_id}/approval"): STAFF,
    ("POST", "/tickets/{ticket_id}/ask"): STAFF,
    # Asks are addressed to the owner; an admin may answer for them.
    ("POST", "/tickets/{ticket_id}/asks/{ask_id}/reply"): MANAGER,
    ("POST", "/tickets/{ticket_id}/assign"): STAFF,
    ("POST", "/tickets/{ticket_id}/done"): STAFF,
    ("POST", "/tickets/{ticket_id}/escalate"): STAFF,
    ("POST", "/tickets/{ticket_id}/lesson"): STAFF,
    ("POST", "/tickets/{ticket_id}/message"): STAFF,
    ("GET", "/tickets/{ticket_id}/message/preview"): STAFF,
    ("POST", "/tickets/{ticket_id}/resolve"): STAFF,
    ("POST", "/tickets/{ticket_id}/reopen"): STAFF,
    ("POST", "/tickets/{ticket_id}/run"): STAFF,
    ("POST", "/tickets/{ticket_id}/run/answer"): STAFF,
    ("POST", "/tickets/{ticket_id}/run/back"): STAFF,
    ("POST", "/tickets/{ticket_id}/runbook"): STAFF,
    ("POST", "/tickets/{ticket_id}/status"): STAFF,
    # As its API route: the service decides who, by the ticket's assignee and the level.
    ("POST", "/tickets/{ticket_id}/requester"): STAFF,
    ("POST", "/tickets/{ticket_id}/notes"): STAFF,
    ("GET", "/tickets/{ticket_id}/attachments/{attachment_id}"): STAFF,
    ("GET", "/runbooks"): STAFF,
    ("GET", "/runbooks/{key}"): STAFF,
    ("GET", "/runbooks/{key}/diff"): STAFF,
    ("GET", "/runbooks/new"): MAINTAINER,
    ("POST", "/runbooks/new"): MAINTAINER,
    ("GET", "/runbooks/{key}/edit"): MAINTAINER,
    ("POST", "/runbooks/{key}/edit"): MAINTAINER,
    ("GET", "/dashboard"): MANAGER,
    ("POST", "/dashboard/drill/start"): MANAGER,
    ("POST", "/dashboard/asks/{ask_id}/reply"): MANAGER,
    ("POST", "/dashboard/drill/end"): MANAGER,
    ("POST", "/dashboard/review/{item_id}"): MANAGER,
    # Everyone reads the map, the limits and the templates they work under.
    ("GET", "/escalation"): STAFF,
    ("GET", "/escalation/diff"): STAFF,
    ("GET", "/escalation/edit"): MANAGER,
    ("POST", "/escalation/edit"): MANAGER,
    ("GET", "/boundaries"): STAFF,
    ("GET", "/boundaries/diff"): STAFF,
    ("GET", "/boundaries/edit"): MANAGER,
    ("POST", "/boundaries/edit"): MANAGER,
    ("GET", "/templates"): STAFF,
    ("GET", "/templates/diff"): STAFF,
    ("GET", "/templates/edit"): MANAGER,
    ("POST", "/templates/edit"): MANAGER,
    ("GET", "/settings"): MANAGER,
    ("POST", "/settings/mail"): MANAGER,
    ("POST", "/settings/notifications"): MANAGER,
    ("POST", "/settings/organisation"): MANAGER,
    ("POST", "/settings/psa/test"): MANAGER,
    ("POST", "/settings/tokens"): MANAGER,
    ("POST", "/settings/tokens/{token_id}/revoke"): MANAGER,
    ("GET", "/settings/duty"): MANAGER,
    ("POST", "/settings/duty"): MANAGER,
    ("POST", "/settings/duty/{shift_id}/remove"): MANAGER,
    ("GET", "/integrations"): MANAGER,
    ("POST", "/integrations"): MANAGER,
    ("POST", "/integrations/{integration_id}/revoke"): MANAGER,
    ("POST", "/integrations/mappings"): MANAGER,
    ("POST", "/integrations/mappings/{mapping_id}/delete"): MANAGER,
    ("GET", "/staff"): MANAGER,
    ("GET", "/approvals"): STAFF,
    ("GET", "/tickets/{ticket_id}/runner"): STAFF,
    ("GET", "/tickets/{ticket_id}/alerts"): STAFF,
    ("POST", "/tickets/{ticket_id}/run/switch"): STAFF,
    ("POST", "/approvals/{request_id}/decide"): STAFF,
    ("POST", "/staff"): MANAGER,
    ("POST", "/staff/{staff_id}/channels"): MANAGER,
    ("GET", "/staff/{staff_id}"): MANAGER,
    ("POST", "/staff/{staff_id}"): MANAGER,
    ("POST", "/staff/{staff_id}/deactivate"): MANAGER,
    ("POST", "/staff/{staff_id}/reactivate"): MANAGER,
    ("POST", "/staff/{staff_id}/reassign"): MANAGER,
    ("POST", "/staff/{staff_id}/reset-link"): MANAGER,
    ("GET", "/me"): STAFF,
    ("POST", "/me/channels"): STAFF,
    ("POST", "/me/notices/{notice_id}/open"): STAFF,
    ("POST", "/me/notices/read"): STAFF,
    # Signed action links: public by token (like signed webhooks), refused for everyone
    # without a valid one, whoever is signed in; a signed-in person must be the link's own.
    ("GET", "/l/{token}"): INTEGRATION,
    ("POST", "/l/{token}"): INTEGRATION,
    # One-time password-reset links: the signed link is the credential; without a valid
    # one everybody is refused (403), signed in or not.
    ("GET", "/reset/{token}"): INTEGRATION,
    ("POST", "/reset/{token}"): INTEGRATION,
}

# Made-up but well-formed values for path parameters.
PARAMS = {
    "key": "vpn-auth-failure",
    "ref": "vpn-auth-failure",
    "kind": "generic",
    "token": "frh_nope",
}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app serves, through included routers."""
    found: set[tuple[str, str]] = set()

    def walk(routes: list[object], prefix: str) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.update((m, prefix + route.path) for m in route.methods or () if m != "HEAD")
            elif hasattr(route, "original_router"):
                walk(route.original_router.routes, prefix + route.include_context.prefix)  # type: ignore[attr-defined]

    walk(app.routes, "")  # type: ignore[arg-type]
    return found


@dataclass
class Credentials:
    bearer: str | None = None
    cookie: str | None = None
    csrf: str | None = None


@pytest.fixture
def setup(db: Database, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, Credentials], int]]:
    creds: dict[str, Credentials] = {"anonymous": Credentials()}
    with db.unit_of_work() as session:
        initialise(session)
        people = {
            "L1": ("technician", "L1"),
            "L2": ("technician", "L2"),
            "owner": ("owner", "owner"),
            "admin": ("admin", "L2"),
            "revoked": ("owner", "owner"),
        }
        for name, (role, level) in people.items():
            staff = add_staff(
                session, name=name, email=f"{name.lower()}@example.com", role=role, level=level
            )
            token, plain = create_token(session, staff=staff, name="matrix")
            web, cookie = start_session(session, staff)
            creds[name] = Credentials(plain, cookie, web.csrf_token)
            if name == "revoked":
                revoke_token(session, token.id)
                _end_web_session(session, web.id)
                creds[name].cookie = "made-up-session"
        ticket_id = create_ticket(session, title="Matrix ticket", category="vpn").id
    app = create_app(Settings(home=tmp_path), db=db)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, creds, ticket_id


def _end_web_session(session: Session, web_id: int) -> None:
    from franchise.accounts.session_models import WebSession

    row = session.get(WebSession, web_id)
    assert row is not None
    session.delete(row)


def test_every_route_has_an_entry_in_the_table() -> None:
    served = app_routes(create_app(Settings()))
    assert served - set(EXPECTED) == set(), "new routes need a decision in EXPECTED"
    assert set(EXPECTED) - served == set(), "EXPECTED lists routes the app no longer has"


@pytest.mark.parametrize("role", ROLES)
def test_the_gate_allows_exactly_the_table(
    setup: tuple[TestClient, dict[str, Credentials], int], role: str
) -> None:
    client, creds, ticket_id = setup
    wrong: list[str] = []
    # Log-out and "sign out everywhere" end the session the later requests use: they go last.
    last = (("POST", "/account/sessions/revoke-all"), ("POST", "/logout"))
    order = sorted(EXPECTED.items(), key=lambda item: (item[0] in last, item[0]))
    for (method, path), allowed in order:
        url = re.sub(r"\{(\w+)\}", lambda m: PARAMS.get(m.group(1), str(ticket_id)), path)
        response = _request(client, creds[role], method, url, is_api=path.startswith("/api/"))
        if response.status_code >= 500:
            wrong.append(f"{method} {path}: {response.status_code} (server error)")
            continue
        if allowed is PUBLIC:
            # Sign-in has its own CSRF cookie; the gate lets everyone reach it.
            continue
        denied = response.status_code in (401, 403) or (
            response.status_code in (302, 303)
            and "/login" in response.headers.get("location", "")
            and path not in ("/login", "/logout")
        )
        if denied == (role in allowed):
            verdict = "denied" if denied else "allowed"
            wrong.append(f"{method} {path}: {verdict} ({response.status_code})")
    assert wrong == [], f"{role}: " + "; ".join(wrong)


def _request(
    client: TestClient, cred: Credentials, method: str, url: str, *, is_api: bool
) -> httpx.Response:
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    if is_api and cred.bearer:
        headers["Authorization"] = f"Bearer {cred.bearer}"
    if not is_api and cred.cookie:
        cookies[SESSION_COOKIE] = cred.cookie
        if cred.csrf:
            headers["X-CSRF-Token"] = cred.csrf
    client.cookies.clear()
    for name, value in cookies.items():
        client.cookies.set(name, value)
    kwargs: dict[str, object] = {"headers": headers, "follow_redirects": False}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json" if is_api else "data"] = {}
    return client.request(method, url, **kwargs)  # type: ignore[arg-type]
