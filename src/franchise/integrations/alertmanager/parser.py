"""Prometheus Alertmanager webhook (payload version 4): one normalized alert per entry of
`alerts`, keyed by its fingerprint (or, from senders that omit it, by its label set)."""

from __future__ import annotations

from typing import Any

from franchise.alerts.normalized import (
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
    data = as_object(document, "body")
    if "alerts" not in data:
        raise MalformedPayload(
            "body.alerts: required (an Alertmanager webhook has a list of alerts)"
        )
    group_status = data.get("status")
    return [
        parse_alert(item, f"alerts[{i}]", group_status)
        for i, item in enumerate(as_list(data["alerts"], "alerts"))
    ]


def parse_alert(item: Any, where: str, group_status: object = None) -> NormalizedAlert:
    """One Alertmanager-style alert (Grafana's unified alerting sends the same shape)."""
    alert = as_object(item, where)
    labels = string_map(alert.get("labels"), f"{where}.labels")
    annotations = string_map(alert.get("annotations"), f"{where}.annotations")
    raw_status = alert.get("status", group_status)
    status = STATUS.get(str(raw_status).lower()) if raw_status is not None else None
    if status is None:
        raise MalformedPayload(f"{where}.status: must be firing or resolved, got {raw_status!r}")
    if not labels:
        raise MalformedPayload(f"{where}.labels: required (an alert is identified by its labels)")
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
    )
