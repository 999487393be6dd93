"""Webhook formats, one folder each: a parser from the JSON body to normalized alerts."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from franchise.integrations.alertmanager.parser import check as check_alertmanager
from franchise.integrations.alertmanager.parser import parse as parse_alertmanager
from franchise.integrations.generic.parser import parse as parse_generic
from franchise.integrations.grafana.parser import check as check_grafana
from franchise.integrations.grafana.parser import parse as parse_grafana
from franchise.integrations.normalized import MalformedPayload, NormalizedAlert
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

Checker = Callable[[Any], int]

# Formats whose bodies can be checked without building their alerts (see `check_payload`):
# the ones that send many alerts per body.
CHECKERS: dict[str, Checker] = {
    "alertmanager": check_alertmanager,
    "grafana": check_grafana,
}

# Arrays and objects nested deeper than this are refused before the body is decoded: no
# monitoring tool nests past a handful of levels, and Python's decoder recurses, so a
# 1,000-deep body would otherwise end in RecursionError (a 500 and a traceback).
MAX_DEPTH = 32
# Every byte but quotes and brackets, deleted to leave a document's skeleton.
_NOT_SKELETON = bytes(b for b in range(256) if b not in b'"[]{}')
_SQUARE = bytes.maketrans(b"{}", b"[]")
_STRING = re.compile(rb'"[^"]*"')


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects nest more than `limit` deep, found without decoding.

    Every step is one pass in C (a Python loop over the brackets of a 10,000-alert body
    would cost more than decoding it): escaped backslashes and quotes go first, so what
    is left of each string is its quotes and brackets and one expression removes it; then
    innermost pairs are peeled `limit` times, and a pair still left means deeper. A body
    that is not JSON is left for the decoder to refuse with its own message."""
    if b"\\" in body:
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = body.translate(None, _NOT_SKELETON)
    # Most strings hold no bracket, so their skeleton is "": those go first, in one replace
    # (the expression alone costs three times as much). Removing any two adjacent quotes
    # keeps the rest right: they are a whole empty string, or the end of one string and the
    # start of the next with nothing between, which then read as one string of both.
    skeleton = _STRING.sub(b"", skeleton.replace(b'""', b"")).translate(_SQUARE)
    for _ in range(limit):
        peeled = skeleton.replace(b"[]", b"")
        if peeled == skeleton:
            return False
        skeleton = peeled
    return b"[]" in skeleton


def load_json(body: bytes | str) -> Any:
    """The JSON document of a body, or MalformedPayload naming where it breaks."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as exc:
        raise MalformedPayload(f"body is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise MalformedPayload("body is empty; expected a JSON document")
    if too_deep(body if isinstance(body, bytes) else text.encode("utf-8", "surrogatepass")):
        raise MalformedPayload(f"body nests arrays and objects deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text)
    except RecursionError:  # unbalanced, so the skeleton check let it through
        raise MalformedPayload(
            f"body nests arrays and objects deeper than {MAX_DEPTH} levels"
        ) from None
    except json.JSONDecodeError as exc:
        raise MalformedPayload(
            f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def parse_payload(kind: str, document: Any) -> list[NormalizedAlert]:
    parser = PARSERS.get(kind)
    if parser is None:
        raise MalformedPayload(f"unknown integration kind '{kind}' (use {', '.join(KINDS)})")
    return parser(document)


def check_payload(kind: str, document: Any) -> int:
    """How many alerts a document holds, refusing it as `parse_payload` would: a webhook is
    answered from this, and its alerts are built when the stored body is processed."""
    checker = CHECKERS.get(kind)
    if checker is None:
        return len(parse_payload(kind, document))
    return checker(document)
