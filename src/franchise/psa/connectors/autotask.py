"""Autotask PSA over its REST API.

Sources (Autotask REST API documentation, https://www.autotask.net/help/developerhelp/ —
"Making basic API calls", "Finding your Autotask API zone" (zoneInformation), "Basic query
calls", the Tickets and TicketNotes entities, and "Webhooks (REST API)"):

- every call: the `ApiIntegrationCode`, `UserName` and `Secret` headers of an API user;
- the zone: `GET https://webservices.autotask.net/atservicesrest/v1.0/zoneInformation?user=`
  answers `{"zoneName", "url": "https://webservicesN.autotask.net/atservicesrest/", ...}`;
  every other call goes to `{url}v1.0/...`;
- `POST /v1.0/Tickets/query` with `{"filter": [{"op": "gt", "field": "lastActivityDate",
  "value": ...}, ...]}` answers `{"items": [...], "pageDetails": {"nextPageUrl": ...}}`; the
  next page is a GET of `nextPageUrl` until it is null;
- status, priority, issueType and subIssueType are picklist ids; their labels come from
  `GET /v1.0/Tickets/entityInformation/fields`; the client from `POST /v1.0/Companies/query`;
- `PATCH /v1.0/Tickets` with `{"id", "userDefinedFields": [{"name", "value"}]}` sets a
  user-defined field (and `status` for a resolution);
- `POST /v1.0/Tickets/{id}/Notes` with `{"ticketID", "title", "description", "noteType",
  "publish"}` adds a note (publish 1: Autotask users only, not the client portal);
- ticket webhooks carry `X-Hook-Signature: sha1=<base64 HMAC-SHA1 of the raw body with the
  webhook's secret key>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

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

if TYPE_CHECKING:
    # Imported where a request is sent: httpx loads about 5 MB (its command line's rich
    # and pygments too), which a server that never calls out does without.
    import httpx

VENDOR = "autotask"
DEFAULT_URL = "https://webservices.autotask.net/atservicesrest"
OPTIONS = ("username", "integration_code", "field_name", "resolved_status")
SECRETS = ("secret", "webhook_secret")
COMPLETE_STATUS = "5"  # Autotask's built-in Complete
NOTE_TYPE, NOTE_PUBLISH = 1, 1
MAX_PAGES = 1000
PICKLISTS = ("status", "priority", "issueType", "subIssueType")

_zones: dict[tuple[str, str], str] = {}
_zones_lock = threading.Lock()


class AutotaskConnector(HttpConnector):
    vendor = VENDOR

    def _headers(self) -> dict[str, str]:
        return {
            "ApiIntegrationCode": self.config.options.get("integration_code", ""),
            "UserName": self.config.options.get("username", ""),
            "Secret": self.config.secrets.get("secret", ""),
        }

    def _api(self) -> str:
        """The zone's API root, looked up once per process and user."""
        user = self.config.options.get("username", "")
        key = (self.base, user)
        with _zones_lock:
            if key in _zones:
                return _zones[key]
        response = send(
            self.http,
            "GET",
            f"{self.base}/v1.0/zoneInformation",
            "Autotask zone lookup",
            params={"user": user},
        )
        url = _json(response, "Autotask zone lookup").get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise PsaError("Autotask zone lookup: the answer has no zone url", permanent=True)
        if not _same_service(self.base, url):
            # The credentials go with every call to the zone: never to another service.
            raise PsaError(
                f"Autotask zone lookup: the zone url {url[:80]!r} is not on the same service "
                f"as {self.base}",
                permanent=True,
            )
        api = url.rstrip("/") + "/v1.0"
        with _zones_lock:
            _zones[key] = api
        return api

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        api = self._api()
        if path.startswith(("https://", "http://")):
            # A next-page link from the answer: followed only within the zone's API.
            if not path.startswith(api + "/"):
                raise PsaError(f"{what}: the link {path[:80]!r} leaves {api}", permanent=True)
            url = path
        else:
            url = f"{api}/{path}"
        return send(self.http, method, url, what, headers=self._headers(), **kwargs)

    def test(self) -> str:
        labels = self._picklists()
        return (
            f"signed in to Autotask ({self._api()}); {len(labels.get('status', {}))} ticket "
            "statuses readable"
        )

    def pull(self, since: datetime | None, until: datetime) -> Pull:
        labels = self._picklists()
        filters: list[dict[str, Any]] = [
            {"op": "lte", "field": "lastActivityDate", "value": utc_stamp(until)}
        ]
        if since is not None:
            filters.insert(0, {"op": "gt", "field": "lastActivityDate", "value": utc_stamp(since)})
        response = self._call(
            "POST", "Tickets/query", "Autotask ticket query", json={"filter": filters}
        )
        items: list[dict[str, Any]] = []
        pages = 0
        while True:
            pages += 1
            data = _json(response, "Autotask ticket query")
            found = data.get("items")
            if not isinstance(found, list):
                raise PsaError("Autotask ticket query: the answer has no 'items' list")
            items.extend(t for t in found if isinstance(t, dict))
            next_url = (data.get("pageDetails") or {}).get("nextPageUrl")
            if not next_url:
                break
            if pages >= MAX_PAGES:
                raise too_many_pages("Autotask ticket query", MAX_PAGES)
            response = self._call("GET", str(next_url), "Autotask ticket query (next page)")
        companies = self._companies({t.get("companyID") for t in items})
        return Pull([_remote(t, labels, companies) for t in items], until, pages)

    def _picklists(self) -> dict[str, dict[str, str]]:
        response = self._call("GET", "Tickets/entityInformation/fields", "Autotask ticket fields")
        fields = _json(response, "Autotask ticket fields").get("fields") or []
        labels: dict[str, dict[str, str]] = {}
        for item in fields:
            if isinstance(item, dict) and item.get("name") in PICKLISTS:
                labels[str(item["name"])] = {
                    str(v.get("value")): str(v.get("label") or "")
                    for v in item.get("picklistValues") or []
                    if isinstance(v, dict)
                }
        return labels

    def _companies(self, ids: set[Any]) -> dict[str, str]:
        wanted = sorted(int(i) for i in ids if isinstance(i, int))
        if not wanted:
            return {}
        body = {"filter": [{"op": "in", "field": "id", "value": wanted}]}
        response = self._call("POST", "Companies/query", "Autotask company query", json=body)
        items = _json(response, "Autotask company query").get("items") or []
        return {
            str(c.get("id")): str(c.get("companyName") or "") for c in items if isinstance(c, dict)
        }

    def _ticket_id(self, number: str) -> int:
        body = {"filter": [{"op": "eq", "field": "ticketNumber", "value": number}]}
        response = self._call("POST", "Tickets/query", f"Autotask ticket {number}", json=body)
        items = _json(response, f"Autotask ticket {number}").get("items") or []
        if not items or not isinstance(items[0], dict) or not isinstance(items[0].get("id"), int):
            raise PsaError(f"Autotask has no ticket {number}", permanent=True)
        ticket_id: int = items[0]["id"]
        return ticket_id

    def push_fields(self, number: str, value: str) -> None:
        field = self.config.options.get("field_name", "")
        if not field:
            raise PsaError(
                "Autotask user-defined field is not set (franchise psa connect autotask "
                "--field-name NAME)",
                permanent=True,
            )
        body = {
            "id": self._ticket_id(number),
            "userDefinedFields": [{"name": field, "value": value}],
        }
        self._call("PATCH", "Tickets", f"Autotask ticket {number} user-defined field", json=body)

    def add_note(self, number: str, text: str, *, resolve: bool = False) -> None:
        ticket_id = self._ticket_id(number)
        note = {
            "ticketID": ticket_id,
            "title": "Franchise: resolution" if resolve else "Franchise",
            "description": text,
            "noteType": NOTE_TYPE,
            "publish": NOTE_PUBLISH,
        }
        self._call(
            "POST", f"Tickets/{ticket_id}/Notes", f"Autotask ticket {number} note", json=note
        )
        if resolve:
            status = self.config.options.get("resolved_status") or COMPLETE_STATUS
            body = {"id": ticket_id, "status": int(status) if status.isdecimal() else status}
            self._call("PATCH", "Tickets", f"Autotask ticket {number} status", json=body)

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> bool:
        secret = self.config.secrets.get("webhook_secret", "")
        if not secret:
            return False  # never accept an unsigned webhook
        given = next((v for k, v in headers.items() if k.lower() == "x-hook-signature"), "")
        digest = hmac.new(secret.encode(), body, hashlib.sha1).digest()
        expected = "sha1=" + base64.b64encode(digest).decode()
        return hmac.compare_digest(expected.encode(), given.encode())


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise PsaError(f"{what}: the answer is not JSON") from None
    if not isinstance(data, dict):
        raise PsaError(f"{what}: the answer is not a JSON object")
    return data


def _remote(
    ticket: dict[str, Any], labels: dict[str, dict[str, str]], companies: dict[str, str]
) -> RemoteTicket:
    def label(field: str) -> str:
        raw = ticket.get(field)
        return labels.get(field, {}).get(str(raw), "") if raw is not None else ""

    return RemoteTicket(
        number=str(ticket.get("ticketNumber") or ""),
        title=str(ticket.get("title") or ""),
        body=str(ticket.get("description") or ""),
        client=companies.get(str(ticket.get("companyID"))) or None,
        category_parts=tuple(p for p in (label("issueType"), label("subIssueType")) if p),
        status=label("status") or str(ticket.get("status") or ""),
        priority=label("priority") or str(ticket.get("priority") or ""),
        created_at=parse_time(ticket.get("createDate")),
        updated_at=parse_time(ticket.get("lastActivityDate")),
    )


def _same_service(base: str, url: str) -> bool:
    """Whether a zone url belongs to the configured service: the same scheme, and the same
    host or a sibling under its domain (webservices15.autotask.net beside
    webservices.autotask.net)."""
    a, b = urlsplit(base), urlsplit(url)
    if a.scheme != b.scheme or not a.hostname or not b.hostname:
        return False
    if a.hostname == b.hostname:
        return True
    labels = a.hostname.split(".")
    if len(labels) < 3 or labels[-1].isdecimal():
        return False  # an IP address or a bare domain: only itself
    return b.hostname.endswith("." + ".".join(labels[1:]))
