"""PagerDuty: the Events API v2 (what monitoring tools send to PagerDuty, so they can send it
here instead), and PagerDuty's own V3 incident webhooks (to mirror PagerDuty incidents).

Grouping: by `dedup_key` (Events API) or the incident id (V3), as PagerDuty itself does:
the sender already decided what belongs together, so both groupings give the same tickets."""

from __future__ import annotations

import json
from typing import Any

from franchise.integrations.normalized import (
    MalformedPayload,
    NormalizedAlert,
    as_object,
    clip,
    fold_severity,
    make_key,
    optional_text,
    required_text,
)

ACTIONS = {"trigger": "firing", "acknowledge": "acknowledged", "resolve": "resolved"}
V3_EVENTS = {
    "incident.triggered": "firing",
    "incident.reopened": "firing",
    "incident.escalated": "firing",
    "incident.acknowledged": "acknowledged",
    "incident.resolved": "resolved",
}


def routing_key(document: Any) -> str | None:
    """Events API v2 senders put their integration key in the body; it can carry our token."""
    if isinstance(document, dict):
        value = document.get("routing_key")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def parse(document: Any) -> list[NormalizedAlert]:
    data = as_object(document, "body")
    if "event_action" in data:
        return [_event_v2(data)]
    event = data.get("event")
    if isinstance(event, dict) and str(event.get("event_type", "")).startswith("incident."):
        return _webhook_v3(event)
    raise MalformedPayload(
        "body: not a PagerDuty event (expected `event_action` from the Events API v2, "
        "or `event.event_type` from a V3 webhook)"
    )


def _event_v2(data: dict[str, Any]) -> NormalizedAlert:
    action = str(data.get("event_action", "")).lower()
    status = ACTIONS.get(action)
    if status is None:
        raise MalformedPayload(
            f"body.event_action: must be trigger, acknowledge or resolve, got "
            f"{data.get('event_action')!r}"
        )
    dedup = optional_text(data, "dedup_key", "body")
    if status != "firing":
        if dedup is None:
            raise MalformedPayload(f"body.dedup_key: required to {action} an alert")
        return NormalizedAlert(dedup_key=make_key(dedup), status=status, title=f"{action}: {dedup}")
    payload = as_object(data.get("payload"), "body.payload")
    summary = required_text(payload, "summary", "body.payload")
    source = required_text(payload, "source", "body.payload")
    severity = fold_severity(
        required_text(payload, "severity", "body.payload"),
        default=None,
        where="body.payload.severity",
    )
    details = payload.get("custom_details")
    labels = {
        name: str(payload[name])
        for name in ("component", "group", "class")
        if payload.get(name) not in (None, "")
    }
    alert_type = labels.get("class")
    body_lines = [f"{name}: {value}" for name, value in labels.items()]
    if isinstance(details, dict):
        if isinstance(details.get("alert_type"), str):
            alert_type = details["alert_type"]
        body_lines.append(json.dumps(details, indent=2, sort_keys=True, default=str))
    elif details not in (None, ""):
        body_lines.append(str(details))
    return NormalizedAlert(
        # Without a dedup_key PagerDuty opens a new incident per event; we group repeats of
        # the same summary from the same source instead, which is what a storm needs.
        dedup_key=make_key(dedup) if dedup else make_key("pd", source, summary),
        status=status,
        title=clip(summary),
        severity=severity,
        body="\n".join(body_lines),
        host=source,
        labels=labels,
        alert_type=alert_type,
    )


def _webhook_v3(event: dict[str, Any]) -> list[NormalizedAlert]:
    status = V3_EVENTS.get(str(event["event_type"]))
    if status is None:
        return []  # annotations, priority changes...: nothing to do on the ticket
    incident = as_object(event.get("data"), "body.event.data")
    incident_id = required_text(incident, "id", "body.event.data")
    raw_service = incident.get("service")
    service: dict[str, Any] = raw_service if isinstance(raw_service, dict) else {}
    service_name = optional_text(service, "summary", "body.event.data.service")
    url = optional_text(incident, "html_url", "body.event.data")
    labels = {"service": service_name} if service_name else {}
    return [
        NormalizedAlert(
            dedup_key=make_key("incident", incident_id),
            status=status,
            title=clip(optional_text(incident, "title", "body.event.data") or incident_id),
            severity="error" if incident.get("urgency") == "high" else "warning",
            body=f"PagerDuty incident: {url}" if url else "",
            host=service_name,
            labels=labels,
        )
    ]
