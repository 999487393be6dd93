"""Prometheus Alertmanager webhook (payload version 4): one normalized alert per entry of
`alerts`, keyed by its fingerprint (or, from senders that omit it, by its label set).

Grouping: by the notification group, `groupKey` (the `group_by` labels of the route that
sent it), as PagerDuty and Grafana OnCall do: one ticket per group, listing its alerts,
resolved when all of them have resolved. An integration made with `--group-by alert`
keeps one ticket per alert fingerprint. A body without a groupKey groups per alert."""

from __future__ import annotations

from typing import Any

from franchise.integrations.normalized import (
    MalformedPayload,
    NormalizedAlert,
    as_list,
    as_object,
    clip,
    fold_severity,
    host_from_labels,
    labels_key,
    make_key,
    string_map,
)

STATUS = {"firing": "firing", "resolved": "resolved"}


def parse(document: Any) -> list[NormalizedAlert]:
    return parse_alerts(_webhook(document))


def check(document: Any) -> int:
    """How many alerts the body holds, refusing it exactly as `parse` would (same checks,
    same messages) without building the alerts: what the webhook's answer needs. The
    worker parses the stored body later; building 50 alerts was most of a webhook's cost."""
    return check_alerts(_webhook(document))


def _webhook(document: Any) -> dict[str, Any]:
    data = as_object(document, "body")
    if "alerts" not in data:
        raise MalformedPayload(
            "body.alerts: required (an Alertmanager webhook has a list of alerts)"
        )
    return data


def parse_alerts(data: dict[str, Any]) -> list[NormalizedAlert]:
    """The body's `alerts`, each in the body's notification group (if it has one)."""
    group = notification_group(data)
    group_status = data.get("status")
    return [
        parse_alert(item, f"alerts[{i}]", group_status, group)
        for i, item in enumerate(as_list(data["alerts"], "alerts"))
    ]


def check_alerts(data: dict[str, Any]) -> int:
    """`parse_alerts`' checks alone; the number of alerts."""
    notification_group(data)
    group_status = data.get("status")
    items = as_list(data["alerts"], "alerts")
    for i, item in enumerate(items):
        _checked(item, f"alerts[{i}]", group_status)
    return len(items)


def notification_group(data: dict[str, Any]) -> tuple[str, str] | None:
    """The body's notification group: its key, and a title for its ticket. Found once per
    body and handed to each alert (copying every alert to add it cost a fifth of parsing)."""
    group_key = data.get("groupKey")
    if not isinstance(group_key, str) or not group_key.strip():
        return None
    common = string_map(data.get("commonAnnotations"), "commonAnnotations")
    labels = string_map(data.get("groupLabels"), "groupLabels")
    named = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
    title = (
        common.get("summary")
        or common.get("title")
        or (f"Alert group {named}" if named else "Alert group")
    )
    return make_key("group", group_key), clip(title)


def parse_alert(
    item: Any,
    where: str,
    group_status: object = None,
    group: tuple[str, str] | None = None,
) -> NormalizedAlert:
    """One Alertmanager-style alert (Grafana's unified alerting sends the same shape), in
    `group` (key, title) when the body is a notification group."""
    alert, labels, annotations, status = _checked(item, where, group_status)
    fingerprint = alert.get("fingerprint")
    key = str(fingerprint) if fingerprint else "labels:" + labels_key(labels)
    host = host_from_labels(labels)
    name = labels.get("alertname") or "Alert"
    title = annotations.get("summary") or annotations.get("title") or name
    if host and host.lower() not in title.lower():
        title = f"{title} on {host}"
    body_parts = [annotations.get("description") or annotations.get("message") or ""]
    if annotations.get("runbook_url"):
        body_parts.append(f"Runbook: {annotations['runbook_url']}")
    if alert.get("generatorURL"):
        body_parts.append(f"Source: {alert['generatorURL']}")
    body_parts.append("Labels: " + ", ".join(f"{k}={v}" for k, v in sorted(labels.items())))
    return NormalizedAlert(
        dedup_key=make_key(key),
        status=status,
        title=clip(title),
        severity=fold_severity(labels.get("severity")),
        body="\n".join(p for p in body_parts if p),
        host=host,
        labels=labels,
        alert_type=labels.get("alert_type") or annotations.get("alert_type"),
        group_key=group[0] if group else None,
        group_title=group[1] if group else None,
    )


def _checked(
    item: Any, where: str, group_status: object
) -> tuple[dict[str, Any], dict[str, str], dict[str, str], str]:
    """Every check of one alert (all `parse_alert` can refuse): the alert, its labels,
    annotations and status."""
    alert = as_object(item, where)
    labels = string_map(alert.get("labels"), f"{where}.labels")
    annotations = string_map(alert.get("annotations"), f"{where}.annotations")
    raw_status = alert.get("status", group_status)
    status = STATUS.get(str(raw_status).lower()) if raw_status is not None else None
    if status is None:
        raise MalformedPayload(f"{where}.status: must be firing or resolved, got {raw_status!r}")
    if not labels:
        raise MalformedPayload(f"{where}.labels: required (an alert is identified by its labels)")
    return alert, labels, annotations, status
