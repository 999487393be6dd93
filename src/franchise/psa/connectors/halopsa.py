"""HaloPSA over its REST API.

Sources (HaloPSA API documentation, https://halopsa.com/apidoc/ and the tenant's own
/apidoc page; request shapes confirmed against the HaloAPI PowerShell module
https://www.powershellgallery.com/packages/HaloAPI and the django-halo sync's use of
`lastupdatefromdate`):

- authentication: OAuth2 client credentials, `POST {auth}/auth/token` (form body
  grant_type=client_credentials, client_id, client_secret, scope=all; `?tenant=` for
  Halo-hosted tenants), then `Authorization: Bearer <access_token>`;
- `GET /api/Tickets?pageinate=true&page_size=&page_no=&order=&orderdesc=&lastupdatefromdate=
  &lastupdatetodate=` answers `{"record_count": n, "tickets": [...]}` (the fixture
  tests/fixtures/psa/halopsa/tickets.json); `GET /api/Status` lists status names;
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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from franchise.psa.connectors.base import (
    HttpConnector,
    PsaError,
    Pull,
    RemoteTicket,
    parse_time,
    send,
    too_many_pages,
    utc_stamp,
)
from franchise.psa.values import BadValue, read_status

if TYPE_CHECKING:
    # Imported where a request is sent: httpx loads about 5 MB (its command line's rich
    # and pygments too), which a server that never calls out does without.
    import httpx

VENDOR = "halopsa"
PAGE_SIZE = 100
MAX_PAGES = 1000
# The ticket field the list is sorted on: the time of its last change, oldest first.
ORDER_FIELD = "last_update"
# The lower bound goes back this far from the newest change read: Halo keeps fractions of
# a second that the bound drops, and whether the bound is inclusive is not documented.
OVERLAP = timedelta(seconds=1)
CLOSED_STATUS = 9  # Halo's built-in Closed
OPTIONS = ("client_id", "tenant", "field_id", "resolved_status_id", "webhook_user")
SECRETS = ("client_secret", "webhook_password")
# A token is renewed this long before Halo says it expires, so no call carries a stale one.
TOKEN_MARGIN = 60.0

_tokens: dict[tuple[str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


class HaloConnector(HttpConnector):
    vendor = VENDOR

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
        """Every ticket changed in the window, read oldest change first with the lower bound
        moved up to the newest change read so far (see `_next_mark`), so a ticket edited
        during the pull (it leaves the window) never shifts another one off a page. Halo's
        GET /api/Tickets takes `order` (the field to sort on) and `orderdesc`, beside the
        `lastupdatefromdate`/`lastupdatetodate` filter (HaloPSA API documentation,
        https://halopsa.com/apidoc/resources/tickets; the same parameters in the HaloAPI
        PowerShell module's Get-HaloTicket, https://www.powershellgallery.com/packages/HaloAPI);
        it has no "id greater than" filter, so the keyset is the last-update time."""
        statuses = self._statuses()
        base: dict[str, Any] = {
            "pageinate": "true",
            "page_size": PAGE_SIZE,
            "order": ORDER_FIELD,
            "orderdesc": "false",
            "lastupdatetodate": utc_stamp(until, zone=False),
        }
        found: dict[str, dict[str, Any]] = {}
        mark, page_no, pages = since, 1, 0
        while True:
            pages += 1
            if pages > MAX_PAGES:
                raise too_many_pages("HaloPSA ticket list", MAX_PAGES)
            params = {**base, "page_no": page_no}
            if mark is not None:
                params["lastupdatefromdate"] = utc_stamp(mark, zone=False)
            page = self._tickets(params)
            for ticket in page:
                # Pages overlap (the lower bound is inclusive and moved back a second):
                # a ticket read twice is kept once, as last read.
                found[str(ticket.get("id", ""))] = ticket
            if len(page) < PAGE_SIZE:
                tickets = [_remote(t, statuses) for t in found.values()]
                return Pull(tickets, until, pages)
            moved = _next_mark(page, mark)
            if moved is None:
                page_no += 1  # no headway by time: the next page at the same bound
            else:
                mark, page_no = moved, 1

    def _tickets(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        response = self._call("GET", "Tickets", "HaloPSA ticket list", params=params)
        tickets = _json(response, "HaloPSA ticket list").get("tickets")
        if not isinstance(tickets, list):
            raise PsaError("HaloPSA ticket list: the answer has no 'tickets' list")
        return [t for t in tickets if isinstance(t, dict)]

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


def _updated(ticket: dict[str, Any]) -> datetime | None:
    return parse_time(ticket.get("last_update") or ticket.get("lastactiondate"))


def _next_mark(page: list[dict[str, Any]], mark: datetime | None) -> datetime | None:
    """The lower bound for the next page, or None to stay at `mark` and take the next page
    number: when the page did not come back oldest change first (the order was not
    honoured), or its newest change is too close to `mark` to move (more tickets changed in
    the same second than a page holds). Page numbers are then as good as it gets, and the
    overlap is de-duplicated by id."""
    times = [_updated(t) for t in page]
    if any(t is None for t in times):
        return None
    known = [t for t in times if t is not None]
    if known != sorted(known):
        return None
    moved = known[-1] - OVERLAP
    return moved if mark is None or moved > mark else None


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
        updated_at=_updated(ticket),
    )
