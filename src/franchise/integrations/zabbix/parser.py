"""Zabbix webhook media type. Zabbix has no fixed body: the media script sends what it is
given. We read the common shape (hostname, severity, status, item, trigger, link) and, if
present, trigger_id / event_id, so a problem and its recovery land in one alert group.

Grouping: per trigger (else event, else host and item); Zabbix sends no groups, so
both groupings give one ticket per problem."""

from __future__ import annotations

import re
from typing import Any

from franchise.integrations.normalized import (
    MalformedPayload,
    NormalizedAlert,
    as_object,
    clip,
    fold_severity,
    make_key,
    optional_text,
    string_map,
)

STATUS = {
    "problem": "firing",
    "update": "acknowledged",
    "ok": "resolved",
    "resolved": "resolved",
    "recovery": "resolved",
}
TRIGGER_IN_LINK = re.compile(r"[?&]triggerid=(\d+)")


def parse(document: Any) -> list[NormalizedAlert]:
    data = as_object(document, "body")
    host = optional_text(data, "hostname", "body") or optional_text(data, "host", "body")
    trigger = optional_text(data, "trigger", "body") or optional_text(data, "subject", "body")
    if trigger is None:
        raise MalformedPayload("body.trigger: required (the trigger name of the problem)")
    raw_status = optional_text(data, "status", "body")
    status = STATUS.get((raw_status or "").lower())
    if status is None:
        raise MalformedPayload(
            f"body.status: must be PROBLEM, OK, RESOLVED or UPDATE, got {raw_status!r}"
        )
    link = optional_text(data, "link", "body")
    trigger_id = optional_text(data, "trigger_id", "body") or _trigger_from_link(link)
    event_id = optional_text(data, "event_id", "body")
    if trigger_id:
        key = make_key("trigger", trigger_id, host)
    elif event_id:
        key = make_key("event", event_id)
    else:
        # The recovery message names the trigger differently ("... is reachable"), so without
        # an id only the host and the item tie a problem to its recovery.
        key = make_key("host", host, optional_text(data, "item", "body") or trigger)
    item = optional_text(data, "item", "body")
    labels = string_map(data.get("tags"), "body.tags") if isinstance(data.get("tags"), dict) else {}
    body = "\n".join(p for p in (f"Item: {item}" if item else "", link or "") if p)
    return [
        NormalizedAlert(
            dedup_key=key,
            status=status,
            title=clip(trigger),
            severity=fold_severity(optional_text(data, "severity", "body")),
            body=body,
            host=host,
            labels=labels,
            alert_type=optional_text(data, "alert_type", "body"),
        )
    ]


def _trigger_from_link(link: str | None) -> str | None:
    match = TRIGGER_IN_LINK.search(link or "")
    return match.group(1) if match else None
