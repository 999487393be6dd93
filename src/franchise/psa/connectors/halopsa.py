"""HaloPSA over its REST API.

Sources (HaloPSA API documentation, https://halopsa.com/apidoc/ and the tenant's own
/apidoc page; request shapes confirmed against the HaloAPI PowerShell module
https://www.powershellgallery.com/packages/HaloAPI and the django-halo sync's use of
`lastupdatefromdate`):

- authentication: OAuth2 client credentials, `POST {auth}/auth/token` (form body
  grant_type=client_credentials, client_id, client_secret, scope=all; `?tenant=` for
  Halo-hosted tenants), then `Authorization: Bearer <access_token>`;
- `GET /api/Tickets?pageinate=true&page_size=&page_no=&lastupdatefromdate=&lastupdatetodate=`
  answers `{"record_count": n, "tickets": [...]}`; `GET /api/Status` lists status names;
- `POST /api/Tickets` with `[{"id": n, "customfields": [{"id": f, "value": v}]}]` updates
  a ticket (Halo's POST is an upsert: with an id it updates);
- `POST /api/Actions` with `[{"ticket_id": n, "outcome": ..., "note": ...,
  "hiddenfromuser": true}]` adds a private note; `new_status` changes the status with it;
- outbound webhooks (Configuration > Integrations > Webhooks) POST the ticket as JSON;
  we ask for Basic authentication with the user name and password set at connect time.
"""

from __future__ import annotations

import base64
import hmac
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from franchise.psa.connectors.base import (
    TIMEOUT_SECONDS,
    ConnectionConfig,
    PsaError,
    Pull,
    RemoteTicket,
    iter_pages,
    parse_time,
    send,
)
from franchise.psa.values import BadValue, read_status

VENDOR = "halopsa"
PAGE_SIZE = 100
CLOSED_STATUS = 9  # Halo's built-in Closed
OPTIONS = ("client_id", "tenant", "field_id", "resolved_status_id", "webhook_user")
SECRETS = ("client_secret", "webhook_password")
# A token is renewed this long before Halo says it expires, so no call carries a stale one.
TOKEN_MARGIN = 60.0

_tokens: dict[tuple[str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def _halo_time(when: datetime) -> str:
    # Halo reads naive timestamps as UTC.
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


class HaloConnector:
    vendor = VENDOR

    def __init__(self, config: ConnectionConfig, client: httpx.Client | None = None) -> None:
        self.config = config
        self.base = config.base_url.rstrip("/")
        self._own = client is None
        self._client = client

    @property
    def http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=TIMEOUT_SECONDS)
        return self._client

    def close(self) -> None:
        if self._own and self._client is not None:
            self._client.close()
            self._client = None

    # -- authentication -------------------------------------------------------------------
    def _token(self, *, fresh: bool = False) -> str:
        key = (self.base, self.config.options.get("client_id", ""))
        with _tokens_lock:
            cached = _tokens.get(key)
            if cached and not fresh and cached[1] > time.monotonic():
                return cached[0]
        params = (
            {"tenant": self.config.options["tenant"]} if self.config.options.get("tenant") else {}
        )
        response = send(
            self.http,
            "POST",
            f"{self.base}/auth/token",
            "HaloPSA sign-in",
            params=params,
            data={
                "grant_type": "client_credentials",
                "client_id": self.config.options.get("client_id", ""),
                "client_secret": self.config.secrets.get("client_secret", ""),
                "scope": "all",
            },
        )
        body = _json(response, "HaloPSA sign-in")
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise PsaError("HaloPSA sign-in: the answer has no access_token", permanent=True)
        lifetime = float(body.get("expires_in") or 3600)
        with _tokens_lock:
            _tokens[key] = (token, time.monotonic() + max(lifetime - TOKEN_MARGIN, 0.0))
        return token

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        """An API call with the bearer token; a 401 gets one retry with a new token."""
        for fresh in (False, True):
            headers = {"Authorization": f"Bearer {self._token(fresh=fresh)}"}
            try:
                return send(
                    self.http, method, f"{self.base}/api/{path}", what, headers=headers, **kwargs
                )
            except PsaError as exc:
                if fresh or "HTTP 401" not in exc.reason:
                    raise
        raise AssertionError("unreachable")

    # -- the interface --------------------------------------------------------------------
    def test(self) -> str:
        statuses = self._statuses()
        return f"signed in to HaloPSA at {self.base}; {len(statuses)} ticket statuses readable"

    def pull(self, since: datetime | None, until: datetime) -> Pull:
        statuses = self._statuses()
        params: dict[str, Any] = {"pageinate": "true", "page_size": PAGE_SIZE, "order": "id"}
        if since is not None:
            params["lastupdatefromdate"] = _halo_time(since)
        params["lastupdatetodate"] = _halo_time(until)

        def fetch(page_no: int) -> list[dict[str, Any]]:
            response = self._call(
                "GET", "Tickets", "HaloPSA ticket list", params={**params, "page_no": page_no}
            )
            tickets = _json(response, "HaloPSA ticket list").get("tickets")
            if not isinstance(tickets, list):
                raise PsaError("HaloPSA ticket list: the answer has no 'tickets' list")
            return [t for t in tickets if isinstance(t, dict)]

        found: list[RemoteTicket] = []
        pages = 0
        for page in iter_pages(fetch, PAGE_SIZE):
            pages += 1
            found.extend(_remote(t, statuses) for t in page)
        return Pull(found, until, pages)

    def push_fields(self, number: str, value: str) -> None:
        field = self.config.options.get("field_id", "")
        body = [
            {"id": _ticket_id(number), "customfields": [{"id": _field_id(field), "value": value}]}
        ]
        self._call("POST", "Tickets", f"HaloPSA ticket {number} custom field", json=body)

    def add_note(self, number: str, text: str, *, resolve: bool = False) -> None:
        action: dict[str, Any] = {
            "ticket_id": _ticket_id(number),
            "outcome": "Resolution" if resolve else "Private Note",
            "note": text,
            "hiddenfromuser": True,
        }
        if resolve:
            action["new_status"] = self._resolved_status()
        self._call("POST", "Actions", f"HaloPSA ticket {number} note", json=[action])

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> bool:
        user = self.config.options.get("webhook_user", "")
        password = self.config.secrets.get("webhook_password", "")
        if not user or not password:
            return False  # never accept an unauthenticated webhook
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        given = _header(headers, "Authorization")
        return hmac.compare_digest(expected.encode(), given.encode())

    def _resolved_status(self) -> int:
        """The configured resolution status, else Halo's status that reads as resolved
        (so the next pull finds the ticket as we left it), else Closed (9)."""
        configured = self.config.options.get("resolved_status_id", "")
        if configured.isdecimal():
            return int(configured)
        for status_id, name in self._statuses().items():
            try:
                if (
                    status_id.isdecimal()
                    and read_status(name, self.config.status_map) == "resolved"
                ):
                    return int(status_id)
            except BadValue:
                continue
        return CLOSED_STATUS

    def _statuses(self) -> dict[str, str]:
        response = self._call("GET", "Status", "HaloPSA status list", params={"type": "ticket"})
        data = _json(response, "HaloPSA status list")
        items = data if isinstance(data, list) else []
        return {str(s.get("id")): str(s.get("name") or "") for s in items if isinstance(s, dict)}


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return ""


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise PsaError(f"{what}: the answer is not JSON") from None


def _ticket_id(number: str) -> int:
    if not number.isdecimal():
        raise PsaError(f"HaloPSA ticket number '{number}' is not a number", permanent=True)
    return int(number)


def _field_id(field: str) -> int:
    if not field.isdecimal():
        raise PsaError(
            "HaloPSA custom field id is not set (franchise psa connect halopsa --field-id N)",
            permanent=True,
        )
    return int(field)


def _remote(ticket: dict[str, Any], statuses: dict[str, str]) -> RemoteTicket:
    status_id = str(ticket.get("status_id", ""))
    return RemoteTicket(
        number=str(ticket.get("id", "")),
        title=str(ticket.get("summary") or ""),
        body=str(ticket.get("details") or ""),
        client=str(ticket.get("client_name") or "") or None,
        requester=str(ticket.get("user_name") or "") or None,
        category_parts=tuple(
            str(ticket.get(k) or "") for k in ("category_1", "category_2") if ticket.get(k)
        ),
        status=statuses.get(status_id) or str(ticket.get("status_name") or status_id),
        priority=str(ticket.get("priority_id") or ""),
        created_at=parse_time(ticket.get("dateoccurred")),
        updated_at=parse_time(ticket.get("last_update") or ticket.get("lastactiondate")),
    )
