"""UptimeRobot webhook: one monitor going down (alert type 1), up (2) or its SSL certificate
expiring (3). The monitor (its id, else its URL) is the dedup key.

Grouping: per monitor (and alert type); UptimeRobot sends no groups, so both groupings give
one ticket per monitor."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from franchise.integrations.normalized import (
    MalformedPayload,
    NormalizedAlert,
    as_object,
    clip,
    make_key,
    optional_text,
)

# alert_type number or friendly name -> (status, kind of problem)
TYPES = {
    "1": ("firing", "down"),
    "down": ("firing", "down"),
    "2": ("resolved", "down"),
    "up": ("resolved", "down"),
    "3": ("firing", "ssl_expiry"),
    "ssl expiry": ("firing", "ssl_expiry"),
}


def parse(document: Any) -> list[NormalizedAlert]:
    data = as_object(document, "body")
    url = optional_text(data, "monitor_url", "body")
    name = optional_text(data, "monitor_friendly_name", "body") or url
    if name is None:
        raise MalformedPayload("body.monitor_url: required (or monitor_friendly_name)")
    raw_type = optional_text(data, "alert_type", "body") or optional_text(
        data, "alert_type_friendly_name", "body"
    )
    found = TYPES.get((raw_type or "").lower())
    if found is None:
        raise MalformedPayload(
            f"body.alert_type: must be 1 (down), 2 (up) or 3 (SSL expiry), got {raw_type!r}"
        )
    status, problem = found
    monitor = optional_text(data, "monitor_id", "body") or url or name
    details = optional_text(data, "alert_details", "body") or ""
    host = _host(url)
    what = "is down" if problem == "down" else "has an expiring SSL certificate"
    title = f"{name} {what}" + (f" ({url})" if url and url != name else "")
    labels = {"monitor": name}
    if url:
        labels["monitor_url"] = url
    return [
        NormalizedAlert(
            dedup_key=make_key("monitor", monitor, problem),
            status=status,
            title=clip(title),
            severity="error" if problem == "down" else "warning",
            body=details,
            host=host,
            labels=labels,
            alert_type=f"uptimerobot.{problem}",
        )
    ]


def _host(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url if "//" in url else f"//{url}")
    return parts.hostname or url
