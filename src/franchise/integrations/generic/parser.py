"""Franchise's generic JSON format, for RMMs and scripts (Tactical RMM, NinjaOne, cron jobs).

One alert object, a list of them, or {"alerts": [...]}:
{title, body?, severity?, source/host?, dedup_key?, status: firing|resolved, alert_type?,
client?, labels?}

Grouping: per `dedup_key` (else title and host); the format has no groups, so both
groupings give one ticket per key.
"""

from __future__ import annotations

from typing import Any

from franchise.integrations.normalized import (
    MalformedPayload,
    NormalizedAlert,
    as_list,
    as_object,
    clip,
    fold_severity,
    make_key,
    optional_text,
    required_text,
    string_map,
)

STATUS = {"firing": "firing", "resolved": "resolved"}


def parse(document: Any) -> list[NormalizedAlert]:
    if isinstance(document, list):
        items, where = document, "body"
    elif isinstance(document, dict) and "alerts" in document:
        items, where = as_list(document["alerts"], "body.alerts"), "alerts"
    else:
        return [parse_one(document, "body")]
    if not items:
        raise MalformedPayload(f"{where}: empty; send at least one alert")
    return [parse_one(item, f"{where}[{i}]") for i, item in enumerate(items)]


def parse_one(item: Any, where: str) -> NormalizedAlert:
    data = as_object(item, where)
    title = required_text(data, "title", where)
    raw_status = optional_text(data, "status", where) or "firing"
    status = STATUS.get(raw_status.lower())
    if status is None:
        raise MalformedPayload(f"{where}.status: must be firing or resolved, got {raw_status!r}")
    severity = fold_severity(
        optional_text(data, "severity", where) or "warning", default=None, where=f"{where}.severity"
    )
    host = optional_text(data, "host", where) or optional_text(data, "source", where)
    dedup = optional_text(data, "dedup_key", where)
    return NormalizedAlert(
        # Without a dedup key the same title from the same host is the same alert; a
        # resolve must then repeat the title exactly.
        dedup_key=make_key(dedup) if dedup else make_key("alert", host, title.lower()),
        status=status,
        title=clip(title),
        severity=severity,
        body=optional_text(data, "body", where) or "",
        host=host,
        labels=string_map(data.get("labels"), f"{where}.labels"),
        alert_type=optional_text(data, "alert_type", where),
        client=optional_text(data, "client", where),
    )
