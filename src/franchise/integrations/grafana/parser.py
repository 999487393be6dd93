"""Grafana webhooks: unified alerting sends Alertmanager's shape (plus title, state, orgId);
legacy dashboard alerts send one rule's state (`ruleId`, `state`, `evalMatches`).

Grouping: unified alerting's notification group (`groupKey`), as for Alertmanager, unless
the integration groups per alert; a legacy rule is its own group."""

from __future__ import annotations

from typing import Any

from franchise.integrations.alertmanager.parser import check_alerts, parse_alerts
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

# Legacy rule states; paused and pending rules are not alerts yet, so they are skipped.
LEGACY_STATUS = {"alerting": "firing", "no_data": "firing", "ok": "resolved"}


def parse(document: Any) -> list[NormalizedAlert]:
    data = as_object(document, "body")
    if "alerts" in data:
        return parse_alerts(data)
    return _legacy(_legacy_rule(data))


def check(document: Any) -> int:
    """How many alerts the body holds, refusing it exactly as `parse` would; unified
    alerting's alerts are checked without being built (see the Alertmanager parser)."""
    data = as_object(document, "body")
    if "alerts" in data:
        return check_alerts(data)
    return len(_legacy(_legacy_rule(data)))


def _legacy_rule(data: dict[str, Any]) -> dict[str, Any]:
    if "state" in data and ("ruleId" in data or "ruleName" in data):
        return data
    raise MalformedPayload(
        "body: not a Grafana webhook (expected `alerts` from unified alerting, "
        "or `ruleId` and `state` from legacy alerting)"
    )


def _legacy(data: dict[str, Any]) -> list[NormalizedAlert]:
    state = str(data.get("state", "")).lower()
    if state in ("paused", "pending"):
        return []
    status = LEGACY_STATUS.get(state)
    if status is None:
        raise MalformedPayload(f"body.state: unknown Grafana alert state {data.get('state')!r}")
    rule = (
        optional_text(data, "ruleName", "body") or optional_text(data, "title", "body") or "Alert"
    )
    tags = string_map(data.get("tags"), "body.tags")
    message = optional_text(data, "message", "body") or ""
    url = optional_text(data, "ruleUrl", "body")
    body = "\n".join(p for p in (message, f"Rule: {url}" if url else "") if p)
    return [
        NormalizedAlert(
            dedup_key=make_key("rule", data.get("ruleId") or rule),
            status=status,
            title=clip(optional_text(data, "title", "body") or rule),
            severity=fold_severity(tags.get("severity")),
            body=body,
            host=tags.get("host") or tags.get("instance"),
            labels=tags,
            alert_type=tags.get("alert_type"),
        )
    ]
