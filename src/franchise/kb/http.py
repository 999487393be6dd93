"""One HTTP call to a knowledge base, retried on 429 and 5xx: Retry-After honoured, else
backoff. No database here: pushes run outside any transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Imported where a request is sent: httpx loads about 5 MB (its command line's rich
    # and pygments too), which a server that never calls out does without.
    import httpx


TIMEOUT_SECONDS = 20.0
MAX_ATTEMPTS = 4
FIRST_WAIT = 2.0
# A knowledge base that asks for a longer pause than this is not waited for in one run:
# the runbook is reported as failed and goes out on the next push.
LONGEST_WAIT = 120.0
RETRIED = frozenset({429, 500, 502, 503, 504})

Sleep = Callable[[float], None]


class KbHttpError(Exception):
    """A call that failed for good: after the retries, or with an answer not worth retrying."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delay-seconds or an HTTP date), None if absent
    or unreadable (RFC 9110 section 10.2.3)."""
    if not value:
        return None
    text = value.strip()
    if text.isdecimal():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff(attempt: int) -> float:
    """2 s, 4 s, 8 s ... for the n-th retry when the server names no wait."""
    return float(min(FIRST_WAIT * 2 ** (attempt - 1), LONGEST_WAIT))


def call(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    body: dict[str, Any] | None,
    sleep: Sleep,
    what: str,
) -> dict[str, Any]:
    """Send one request; return its JSON answer (empty dict for an empty body)."""
    import httpx

    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            response = client.request(method, url, headers=headers, json=body)
        except httpx.HTTPError as exc:
            if attempt == MAX_ATTEMPTS:
                raise KbHttpError(f"{what}: {type(exc).__name__}: {exc}") from None
            sleep(backoff(attempt))
            continue
        status = response.status_code
        if status in RETRIED and attempt < MAX_ATTEMPTS:
            wait = retry_after(response.headers.get("Retry-After"))
            if wait is not None and wait > LONGEST_WAIT:
                raise KbHttpError(
                    f"{what}: HTTP {status}, asked to retry after {wait:.0f} s; push again later",
                    status,
                )
            sleep(backoff(attempt) if wait is None else wait)
            continue
        if status >= 400:
            raise KbHttpError(f"{what}: HTTP {status} {_detail(response)}".rstrip(), status)
        if not response.content:
            return {}
        try:
            data = response.json()
        except ValueError:
            raise KbHttpError(f"{what}: HTTP {status} with a body that is not JSON") from None
        if not isinstance(data, dict):
            raise KbHttpError(f"{what}: HTTP {status} with an unexpected JSON shape")
        return data
    raise KbHttpError(f"{what}: gave up after {MAX_ATTEMPTS} attempts")  # pragma: no cover


def _detail(response: httpx.Response) -> str:
    """A short reason from the answer (JSON:API errors, Hudu's error), never the request."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            return str(first.get("detail") or first.get("title") or "")[:200]
        if isinstance(data.get("error"), str):
            return str(data["error"])[:200]
    return ""
