"""ConnectWise PSA (Manage) over its REST API.

Sources (ConnectWise Developer Network, https://developer.connectwise.com/Products/ConnectWise_PSA
— REST API guide and the Service/Tickets endpoints; callbacks in the Developer Guide
"Webhooks"; the signature check as implemented by Nango's ConnectWise PSA webhook handler,
github.com/NangoHQ/nango, packages/server/lib/webhook/connectwise-psa-webhook-routing.ts):

- every call: `Authorization: Basic base64("{company}+{publicKey}:{privateKey}")` and the
  `clientId` header (the integration's GUID from developer.connectwise.com/ClientID);
- `GET /service/tickets?conditions=lastUpdated > [2026-12-03T08:00:00Z] and lastUpdated <=
  [...]&orderBy=id asc&page=1&pageSize=100` answers a JSON array of tickets; the time of the
  last change is `_info.lastUpdated`; status, priority, company, type and subType are
  references `{id, name}`;
- `PATCH /service/tickets/{id}` takes a JSON Patch array (RFC 6902), here
  `[{"op": "replace", "path": "customFields", "value": [{"id": f, "value": v}]}]`;
- `POST /service/tickets/{id}/notes` with `{"text", "detailDescriptionFlag": false,
  "internalAnalysisFlag": true, "resolutionFlag": ...}` adds an internal (private) note;
- callbacks POST `{"Action", "Type", "ID", "Entity", "Metadata": {"key_url"}}` with
  `x-content-signature: base64(HMAC-SHA256(key=SHA256(signing_key), body))`, the signing key
  read from `Metadata.key_url` — accepted only on the connected ConnectWise host, and kept
  for ten minutes by that URL, with fetches limited (SigningKeys).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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

VENDOR = "connectwise"
MAX_PAGES = 1000
PAGE_SIZE = 100
OPTIONS = ("company", "public_key", "client_id", "field_id", "resolved_status")
SECRETS = ("private_key",)
SIGNATURE_HEADER = "x-content-signature"


class ConnectWiseConnector(HttpConnector):
    vendor = VENDOR

    def _headers(self) -> dict[str, str]:
        options = self.config.options
        user = f"{options.get('company', '')}+{options.get('public_key', '')}"
        pair = f"{user}:{self.config.secrets.get('private_key', '')}"
        return {
            "Authorization": "Basic " + base64.b64encode(pair.encode()).decode(),
            "clientId": options.get("client_id", ""),
        }

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        return send(
            self.http, method, f"{self.base}/{path}", what, headers=self._headers(), **kwargs
        )

    def test(self) -> str:
        response = self._call(
            "GET", "service/tickets", "ConnectWise ticket list", params={"pageSize": 1}
        )
        _array(response, "ConnectWise ticket list")
        return f"signed in to ConnectWise PSA at {self.base}; service tickets readable"

    def pull(self, since: datetime | None, until: datetime) -> Pull:
        window = f"lastUpdated <= [{utc_stamp(until)}]"
        if since is not None:
            window = f"lastUpdated > [{utc_stamp(since)}] and {window}"
        # Keyset paging (`id > last`), not page numbers: a ticket edited during the pull
        # leaves the window, and with page numbers the one after it would be skipped.
        found: list[RemoteTicket] = []
        pages, after = 0, 0
        while True:
            pages += 1
            if pages > MAX_PAGES:
                raise too_many_pages("ConnectWise ticket list", MAX_PAGES)
            condition = f"{window} and id > {after}" if after else window
            params = {"conditions": condition, "orderBy": "id asc", "pageSize": PAGE_SIZE}
            response = self._call(
                "GET", "service/tickets", "ConnectWise ticket list", params=params
            )
            page = _array(response, "ConnectWise ticket list")
            found.extend(_remote(t) for t in page)
            ids = [t["id"] for t in page if isinstance(t.get("id"), int)]
            if len(page) < PAGE_SIZE or not ids:
                return Pull(found, until, pages)
            after = max(ids)

    def push_fields(self, number: str, value: str) -> None:
        field = self.config.options.get("field_id", "")
        if not field.isdecimal():
            raise PsaError(
                "ConnectWise custom field id is not set (franchise psa connect connectwise --field-id N)",
                permanent=True,
            )
        patch = [
            {"op": "replace", "path": "customFields", "value": [{"id": int(field), "value": value}]}
        ]
        self._call(
            "PATCH",
            f"service/tickets/{_ticket_id(number)}",
            f"ConnectWise ticket {number} custom field",
            json=patch,
        )

    def add_note(self, number: str, text: str, *, resolve: bool = False) -> None:
        ticket = _ticket_id(number)
        note = {
            "text": text,
            "detailDescriptionFlag": False,
            "internalAnalysisFlag": True,
            "resolutionFlag": resolve,
        }
        self._call(
            "POST",
            f"service/tickets/{ticket}/notes",
            f"ConnectWise ticket {number} note",
            json=note,
        )
        status = self.config.options.get("resolved_status", "")
        if resolve and status:
            patch = [{"op": "replace", "path": "status", "value": {"name": status}}]
            self._call(
                "PATCH",
                f"service/tickets/{ticket}",
                f"ConnectWise ticket {number} status",
                json=patch,
            )

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> bool:
        given = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), "")
        if not given:
            return False
        try:
            key_url = str(json.loads(body)["Metadata"]["key_url"])
        except (ValueError, KeyError, TypeError):
            return False
        if not self._trusted(key_url):
            return False  # never fetch a key from a host the body names

        def fetch() -> str | None:
            try:
                response = send(self.http, "GET", key_url, "ConnectWise callback signing key")
                return str(response.json()["signing_key"])
            except (PsaError, ValueError, KeyError, TypeError):
                return None

        key = SIGNING_KEYS.get(key_url, fetch)
        if key is not None and _signed(key, body, given):
            return True
        # ConnectWise may have replaced the key behind that URL: ask again, as the limits allow.
        newer = SIGNING_KEYS.get(key_url, fetch, stale=key)
        return newer is not None and newer != key and _signed(newer, body, given)

    def _trusted(self, url: str) -> bool:
        ours, theirs = urlsplit(self.base), urlsplit(url)
        return (ours.scheme, ours.netloc) == (theirs.scheme, theirs.netloc)


def _signed(signing_key: str, body: bytes, given: str) -> bool:
    hashed = hashlib.sha256(signing_key.encode()).digest()
    expected = base64.b64encode(hmac.new(hashed, body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected.encode(), given.encode())


@dataclass
class _Key:
    value: str | None  # None: the URL gave no key (remembered too, so it is not asked again)
    fetched_at: float


class SigningKeys:
    """Callback signing keys by their URL (the key's id), so a callback costs no request to
    ConnectWise while its key is known. A key is kept `ttl` seconds, at most `size` of them
    (the oldest goes first). Fetches are limited, so a flood of forged callbacks cannot
    make us hammer ConnectWise: a known URL is asked again (a key that may have been
    replaced) at most once per `refetch_after` seconds, and at most `per_minute` fetches go
    to one host in any minute; past that a callback is refused (the next sync still reads
    what it announced)."""

    def __init__(
        self,
        *,
        ttl: float = 600.0,
        size: int = 64,
        refetch_after: float = 60.0,
        per_minute: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl, self.size, self.refetch_after = ttl, size, refetch_after
        self.per_minute, self.clock = per_minute, clock
        self._keys: OrderedDict[str, _Key] = OrderedDict()
        self._fetches: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def get(
        self, url: str, fetch: Callable[[], str | None], *, stale: str | None = None
    ) -> str | None:
        """The key behind `url`: the one kept, else fetched if the limits allow. `stale`
        (a key that did not match) asks for a newer one, which is fetched only if the kept
        key is older than `refetch_after`."""
        with self._lock:
            now = self.clock()
            kept = self._keys.get(url)
            # A URL that gave no key (a forgery's, or ConnectWise failing) is asked again
            # sooner than a key expires, but still not on every callback.
            life = self.ttl if kept is None or kept.value is not None else self.refetch_after
            if kept is not None and now - kept.fetched_at >= life:
                del self._keys[url]
                kept = None
            if kept is not None and (stale is None or now - kept.fetched_at < self.refetch_after):
                return kept.value
            if not self._may_fetch(urlsplit(url).netloc, now):
                return None
        value = fetch()  # outside the lock: a slow ConnectWise must not hold up the rest
        with self._lock:
            self._keys[url] = _Key(value, self.clock())
            self._keys.move_to_end(url)
            while len(self._keys) > self.size:
                self._keys.popitem(last=False)
        return value

    def _may_fetch(self, host: str, now: float) -> bool:
        recent = self._fetches.setdefault(host, deque())
        while recent and now - recent[0] >= 60.0:
            recent.popleft()
        if len(recent) >= self.per_minute:
            return False
        recent.append(now)
        return True

    def __len__(self) -> int:
        return len(self._keys)


SIGNING_KEYS = SigningKeys()


def _array(response: httpx.Response, what: str) -> list[dict[str, Any]]:
    try:
        data = response.json()
    except ValueError:
        raise PsaError(f"{what}: the answer is not JSON") from None
    if not isinstance(data, list):
        raise PsaError(f"{what}: the answer is not a list of tickets")
    return [t for t in data if isinstance(t, dict)]


def _ticket_id(number: str) -> int:
    if not number.isdecimal():
        raise PsaError(f"ConnectWise ticket number '{number}' is not a number", permanent=True)
    return int(number)


def _name(ref: Any) -> str:
    return str(ref.get("name") or "") if isinstance(ref, dict) else ""


def _remote(ticket: dict[str, Any]) -> RemoteTicket:
    info = ticket.get("_info") if isinstance(ticket.get("_info"), dict) else {}
    assert isinstance(info, dict)
    return RemoteTicket(
        number=str(ticket.get("id", "")),
        title=str(ticket.get("summary") or ""),
        body=str(ticket.get("initialDescription") or ""),
        client=_name(ticket.get("company")) or None,
        requester=str(ticket.get("contactEmailAddress") or ticket.get("contactName") or "") or None,
        category_parts=tuple(
            p for p in (_name(ticket.get("type")), _name(ticket.get("subType"))) if p
        ),
        status=_name(ticket.get("status")),
        priority=_name(ticket.get("priority")),
        created_at=parse_time(info.get("dateEntered")),
        updated_at=parse_time(info.get("lastUpdated")),
    )
