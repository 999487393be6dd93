"""The one shape every webhook format is parsed into, and the helpers parsers share.

Pure: no database, no I/O. Parsers raise `MalformedPayload` naming the field that is wrong.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from franchise.errors import FranchiseError

STATUSES = ("firing", "resolved", "acknowledged")
SEVERITIES = ("critical", "error", "warning", "info")
# Severity words used by monitoring tools, folded onto our four (PagerDuty's set).
SEVERITY_ALIASES = {
    "critical": "critical",
    "crit": "critical",
    "disaster": "critical",
    "fatal": "critical",
    "emergency": "critical",
    "page": "critical",
    "error": "error",
    "err": "error",
    "high": "error",
    "major": "error",
    "average": "error",
    "warning": "warning",
    "warn": "warning",
    "moderate": "warning",
    "minor": "warning",
    "medium": "warning",
    "info": "info",
    "informational": "info",
    "information": "info",
    "low": "info",
    "none": "info",
    "not classified": "info",
    "notice": "info",
}
PRIORITY_BY_SEVERITY = {"critical": "critical", "error": "high", "warning": "normal", "info": "low"}
MAX_KEY = 255
MAX_TITLE = 500


class MalformedPayload(FranchiseError):
    """The body is not JSON, or not the shape the integration's format requires."""

    code = "malformed_payload"
    status = 400
    exit_code = 2


@dataclass(frozen=True)
class NormalizedAlert:
    dedup_key: str
    status: str
    title: str
    severity: str = "warning"
    body: str = ""
    host: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    alert_type: str | None = None
    client: str | None = None
    # The notification group the sender put this alert in (Alertmanager's groupKey) and
    # the group's title; None for formats without groups: each alert is its own group.
    group_key: str | None = None
    group_title: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "dedup_key": self.dedup_key,
            "status": self.status,
            "title": self.title,
            "severity": self.severity,
            "body": self.body,
            "host": self.host,
            "labels": dict(self.labels),
            "alert_type": self.alert_type,
            "client": self.client,
            "group_key": self.group_key,
            "group_title": self.group_title,
        }


def fold_severity(
    value: object, *, default: str | None = "warning", where: str = "severity"
) -> str:
    """Map a tool's severity word onto ours; unknown words fall back to `default` or are refused."""
    text = str(value).strip().lower() if value is not None else ""
    if text in SEVERITY_ALIASES:
        return SEVERITY_ALIASES[text]
    if default is None:
        raise MalformedPayload(f"{where}: unknown severity {value!r} (use {', '.join(SEVERITIES)})")
    return default


def make_key(*parts: object) -> str:
    """A dedup key from parts; long keys become their SHA-256 so they fit the column."""
    key = ":".join(str(p) for p in parts if p not in (None, ""))
    if len(key) > MAX_KEY:
        return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def labels_key(labels: Mapping[str, str]) -> str:
    """A stable key from a label set (what Alertmanager's fingerprint is computed from)."""
    text = "\x00".join(f"{k}\x01{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def clip(text: str, limit: int = MAX_TITLE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{where}: expected a JSON object, got {_type_name(value)}")
    return value


def as_list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedPayload(f"{where}: expected a JSON array, got {_type_name(value)}")
    return value


def optional_text(data: Mapping[str, Any], name: str, where: str) -> str | None:
    """A string field that may be absent or null; numbers are accepted and turned into text."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedPayload(f"{where}.{name}: expected text, got {_type_name(value)}")
    text = str(value).strip()
    return text or None


def required_text(data: Mapping[str, Any], name: str, where: str) -> str:
    text = optional_text(data, name, where)
    if text is None:
        raise MalformedPayload(f"{where}.{name}: required")
    return text


def string_map(value: object, where: str) -> dict[str, str]:
    """Labels: an object whose values are text (numbers and booleans become text)."""
    if value is None:
        return {}
    data = as_object(value, where)
    if set(map(type, data.values())) <= _TEXT:
        # The common case, checked in C: a decoded object's keys are text already.
        return data
    out = {}
    for key, item in data.items():
        if isinstance(item, dict | list):
            raise MalformedPayload(f"{where}.{key}: expected text, got {_type_name(item)}")
        out[str(key)] = "" if item is None else str(item)
    return out


_TEXT = {str}


def host_from_labels(labels: Mapping[str, str]) -> str | None:
    """The machine an alert is about, from the labels monitoring tools commonly use."""
    for name in ("host", "hostname", "nodename", "node", "instance"):
        value = labels.get(name)
        if value:
            # `instance` is usually host:port; an IPv6 literal keeps its brackets.
            if name == "instance" and value.count(":") == 1:
                value = value.split(":", 1)[0]
            return value
    return None


def _type_name(value: object) -> str:
    return {
        dict: "an object",
        list: "an array",
        str: "text",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)
