"""Webhook formats, one folder each: a parser from the JSON body to normalized alerts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from franchise.alerts.normalized import MalformedPayload, NormalizedAlert
from franchise.integrations.alertmanager.parser import parse as parse_alertmanager
from franchise.integrations.generic.parser import parse as parse_generic
from franchise.integrations.grafana.parser import parse as parse_grafana
from franchise.integrations.pagerduty.parser import parse as parse_pagerduty
from franchise.integrations.uptimerobot.parser import parse as parse_uptimerobot
from franchise.integrations.zabbix.parser import parse as parse_zabbix

Parser = Callable[[Any], list[NormalizedAlert]]

PARSERS: dict[str, Parser] = {
    "alertmanager": parse_alertmanager,
    "pagerduty": parse_pagerduty,
    "zabbix": parse_zabbix,
    "grafana": parse_grafana,
    "uptimerobot": parse_uptimerobot,
    "generic": parse_generic,
}
KINDS = tuple(PARSERS)


def load_json(body: bytes | str) -> Any:
    """The JSON document of a body, or MalformedPayload naming where it breaks."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as exc:
        raise MalformedPayload(f"body is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise MalformedPayload("body is empty; expected a JSON document")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedPayload(
            f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def parse_payload(kind: str, document: Any) -> list[NormalizedAlert]:
    parser = PARSERS.get(kind)
    if parser is None:
        raise MalformedPayload(f"unknown integration kind '{kind}' (use {', '.join(KINDS)})")
    return parser(document)
