"""The connector interface every PSA implements, and the HTTP rules they share.

A connector pulls tickets changed since a cursor, pushes the escalation answer to a custom
field of the PSA's choosing, and adds private notes. It holds no database: the sync
(sync.py) and the outbox channel (outbound.py) hand it what it needs and store what it
says. Statuses, priorities, categories and clients are mapped with the rules of the CSV
import (psa/values.py, psa/categories.py), so a ticket reads the same either way in.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from franchise import __version__
from franchise.psa.categories import map_category
from franchise.psa.formats import FORMATS
from franchise.psa.rows import MAX_EXTERNAL_ID, MAX_TITLE, TicketRow
from franchise.psa.values import BadValue, read_priority, read_status

if TYPE_CHECKING:
    # Imported where a request is sent: httpx loads about 5 MB (its command line's rich
    # and pygments too), which a server that never calls out does without.
    import httpx

TIMEOUT_SECONDS = 20.0
# Set in the session while the sync imports: changes it makes are not pushed back.
INBOUND = "franchise_psa_inbound"
# A Retry-After longer than this is capped: the outbox and the sync come back anyway.
LONGEST_RETRY_AFTER = timedelta(hours=1)
USER_AGENT = f"franchise/{__version__}"


class PsaError(Exception):
    """A PSA call failed. `permanent`: repeating it cannot help (bad credentials, a ticket
    the PSA does not have); `retry_after`: the PSA said when to come back (429)."""

    def __init__(
        self, reason: str, *, permanent: bool = False, retry_after: timedelta | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True)
class RemoteTicket:
    """A PSA ticket as the connector read it, before mapping."""

    number: str
    title: str
    body: str
    client: str | None
    category_parts: tuple[str, ...]
    status: str
    priority: str
    created_at: datetime | None
    updated_at: datetime | None
    # The affected user's name or e-mail where the PSA's ticket carries one.
    requester: str | None = None


@dataclass(frozen=True)
class Pull:
    """What one pull brought: the tickets, and the cursor to ask from next time."""

    tickets: list[RemoteTicket]
    cursor: datetime
    pages: int = 1


@dataclass(frozen=True)
class ConnectionConfig:
    """A stored connection: the vendor, its plain settings and its (unsealed) secrets."""

    vendor: str
    base_url: str
    options: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    status_map: dict[str, str] = field(default_factory=dict)
    priority_map: dict[str, str] = field(default_factory=dict)
    category_map: dict[str, str] = field(default_factory=dict)


class Connector(Protocol):
    vendor: str

    def test(self) -> str:
        """Authenticate and read one thing; a short description of what was reached."""

    def pull(self, since: datetime | None, until: datetime) -> Pull:
        """Tickets changed in [since, until), every page of them."""

    def push_fields(self, number: str, value: str) -> None:
        """Write the escalation answer (escalation_text) to the configured custom field."""

    def add_note(self, number: str, text: str, *, resolve: bool = False) -> None:
        """A private note on the ticket; `resolve` also resolves the ticket in the PSA."""

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """Whether an inbound webhook really comes from this PSA."""

    def close(self) -> None:
        """Close the HTTP client the connector opened (not one it was given)."""


def escalation_text(allowed: bool | None, to: str | None, level: str) -> str:
    """The custom field's value, Yes/No first so a PSA rule can match on it:
    "Yes: to L2 (now L1)", "No (now L1)"."""
    if allowed:
        return f"Yes: to {to} (now {level})" if to else f"Yes (now {level})"
    return f"No (now {level})"


def to_row(remote: RemoteTicket, vendor: str, config: ConnectionConfig) -> TicketRow:
    """The ticket in the importer's form; an unmappable status or priority raises BadValue."""
    fmt = FORMATS[vendor]
    number = remote.number.strip()
    if not number or len(number) > MAX_EXTERNAL_ID:
        raise BadValue(f"ticket number '{number[:40]}' is empty or too long")
    title = (remote.title or "").strip() or f"{vendor} ticket {number}"
    return TicketRow(
        line=0,
        external_id=number,
        title=title[:MAX_TITLE],
        body=remote.body or "",
        client=(remote.client or "").strip() or None,
        psa_category=" / ".join(p for p in remote.category_parts if p),
        category=map_category(
            [p for p in remote.category_parts if p], {**fmt.category_map, **config.category_map}
        ),
        priority=read_priority(remote.priority, {**fmt.priority_map, **config.priority_map}),
        status=read_status(remote.status, {**fmt.status_map, **config.status_map}),
        created_at=remote.created_at,
        requester=(remote.requester or "").strip() or None,
    )


def retry_after(value: str | None, now: datetime | None = None) -> timedelta | None:
    """Retry-After as seconds or an HTTP date (RFC 9110 10.2.3), capped; None if absent."""
    if not value:
        return None
    text = value.strip()
    if text.isdecimal():
        wait = timedelta(seconds=int(text))
    else:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        wait = when - (now or datetime.now(UTC))
    return max(timedelta(0), min(wait, LONGEST_RETRY_AFTER))


def check(response: httpx.Response, what: str) -> httpx.Response:
    """The response if it succeeded; else PsaError saying whether to retry and when."""
    if response.is_success:
        return response
    status = response.status_code
    detail = response.text[:200].strip()
    reason = f"{what}: HTTP {status}" + (f": {detail}" if detail else "")
    if status == 429:
        wait = retry_after(response.headers.get("Retry-After"))
        return _raise(PsaError(reason, retry_after=wait))
    if status >= 500 or status == 408:
        return _raise(PsaError(reason))
    return _raise(PsaError(reason, permanent=True))


def _raise(error: PsaError) -> httpx.Response:
    raise error


def send(client: httpx.Client, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
    """One request; a network failure is a PsaError to retry, never a traceback."""
    import httpx

    headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **kwargs.pop("headers", {})}
    try:
        response = client.request(method, url, headers=headers, **kwargs)
    except httpx.HTTPError as exc:
        raise PsaError(f"{what}: {type(exc).__name__}: {exc}"[:300]) from None
    return check(response, what)


def parse_time(value: Any) -> datetime | None:
    """An API timestamp (ISO 8601, "Z" or offset or naive UTC) as an aware datetime."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def utc_stamp(when: datetime, *, zone: bool = True) -> str:
    """A timestamp as the PSA APIs take it: UTC to the second, "Z" unless `zone` is off
    (HaloPSA reads naive timestamps as UTC)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ" if zone else "%Y-%m-%dT%H:%M:%S")


def too_many_pages(what: str, limit: int) -> PsaError:
    """More pages than `limit` is an error, never a silent stop: the cursor must not move
    past tickets that were not read."""
    return PsaError(
        f"{what}: more than {limit} pages changed in one window; the cursor stays where it was"
    )


class HttpConnector:
    """What every connector shares: the configuration, the API base without a trailing
    slash, and an HTTP client opened on first use (closed by `close` unless it was given)."""

    def __init__(self, config: ConnectionConfig, client: httpx.Client | None = None) -> None:
        self.config = config
        self.base = config.base_url.rstrip("/")
        self._own = client is None
        self._client = client

    @property
    def http(self) -> httpx.Client:
        if self._client is None:
            import httpx

            self._client = httpx.Client(timeout=TIMEOUT_SECONDS)
        return self._client

    def close(self) -> None:
        if self._own and self._client is not None:
            self._client.close()
            self._client = None
