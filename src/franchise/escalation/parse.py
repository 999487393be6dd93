"""Turn escalation-map YAML into an `EscalationMap`, reporting schema problems with lines.

Whether levels, categories, priorities and tiers exist is checked in `lint`.
"""

from __future__ import annotations

from typing import Any

from franchise.escalation.definition import Conditions, Default, EscalationMap, Rule
from franchise.runbooks.definition import DEFAULT_LEVELS
from franchise.yamldoc.loader import item_line, key_line, load, node_line
from franchise.yamldoc.problems import Problem, ProblemList

TOP_KEYS = ("levels", "runbook_emergency_levels", "rules", "default")
RULE_KEYS = ("name", "when", "to", "emergency", "allow", "reason")
WHEN_KEYS = (
    "category",
    "priority",
    "tier",
    "keywords",
    "tags",
    "runbook_outcome",
    "runbook_level",
    "older_than_hours",
    "outage",
)
DEFAULT_KEYS = ("to", "reason")


class _Collector(ProblemList):
    def unknown(self, data: Any, allowed: tuple[str, ...], where: str, line: int) -> None:
        for key in data:
            if key not in allowed:
                self.add(
                    key_line(data, key, line),
                    "unknown-field",
                    f"{where}unknown field '{key}' (allowed: {', '.join(allowed)})",
                )


def parse_map(text: str, file: str = "<escalation>") -> tuple[EscalationMap | None, list[Problem]]:
    data, problems = load(text, file)
    if problems:
        return None, problems
    out = _Collector(file)
    if not isinstance(data, dict):
        out.add(1, "schema", "the escalation map must be a YAML mapping with 'rules' and 'default'")
        return None, out.problems
    out.unknown(data, TOP_KEYS, "", 1)
    levels = _words(data, "levels", out, "") or DEFAULT_LEVELS
    emergency_levels = _words(data, "runbook_emergency_levels", out, "")
    esc_map = EscalationMap(
        levels=levels,
        rules=_rules(data, out),
        default=_default(data, out),
        runbook_emergency_levels=emergency_levels,
        line_of={str(k): key_line(data, k) for k in data},
    )
    return esc_map, out.problems


def _words(data: Any, key: str, out: _Collector, where: str) -> tuple[str, ...]:
    """A text or a list of texts (`priority: high` and `priority: [high, critical]` both work)."""
    value = data.get(key)
    if value is None:
        return ()
    line = key_line(data, key, node_line(data))
    items = value if isinstance(value, list) else [value]
    words = []
    for i, item in enumerate(items):
        if item is None or isinstance(item, dict | list) or not str(item).strip():
            out.add(
                item_line(value, i, line) if isinstance(value, list) else line,
                "schema",
                f"{where}'{key}' must be a text or a list of texts",
            )
            continue
        words.append(str(item).strip())
    return tuple(words)


def _text(data: Any, key: str, out: _Collector, where: str, line: int) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, dict | list | bool):
        out.add(key_line(data, key, line), "schema", f"{where}'{key}' must be a text")
        return None
    return str(value).strip()


def _flag(data: Any, key: str, default: bool, out: _Collector, where: str, line: int) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        out.add(key_line(data, key, line), "schema", f"{where}'{key}' must be true or false")
        return default
    return value


def _rules(data: Any, out: _Collector) -> tuple[Rule, ...]:
    raw = data.get("rules")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        out.add(key_line(data, "rules"), "schema", "'rules' must be a list of rules")
        return ()
    rules = []
    for i, body in enumerate(raw):
        line = item_line(raw, i, key_line(data, "rules"))
        if not isinstance(body, dict):
            out.add(line, "schema", f"rule {i + 1} must be a mapping with name, when, to, reason")
            continue
        rules.append(_rule(body, i, line, out))
    return tuple(rules)


def _rule(body: Any, index: int, line: int, out: _Collector) -> Rule:
    name = _text(body, "name", out, "", line) or ""
    where = f"rule '{name}': " if name else f"rule {index + 1}: "
    out.unknown(body, RULE_KEYS, where, line)
    if not name:
        out.add(line, "missing-field", f"{where}needs a 'name'")
    reason = _text(body, "reason", out, where, line) or ""
    if not reason:
        out.add(line, "missing-field", f"{where}needs a short 'reason' (shown to the technician)")
    return Rule(
        name=name,
        when=_when(body, where, line, out),
        to=_text(body, "to", out, where, line),
        reason=reason,
        emergency=_flag(body, "emergency", False, out, where, line),
        allow=_flag(body, "allow", True, out, where, line),
        line=line,
        line_of={str(k): key_line(body, k, line) for k in body},
    )


def _when(body: Any, where: str, line: int, out: _Collector) -> tuple[Conditions, ...]:
    raw = body.get("when")
    wline = key_line(body, "when", line)
    if raw is None:
        out.add(
            line, "missing-field", f"{where}needs 'when' conditions (use 'default' for the rest)"
        )
        return ()
    blocks = raw if isinstance(raw, list) else [raw]
    conditions = []
    for i, block in enumerate(blocks):
        bline = item_line(raw, i, wline) if isinstance(raw, list) else wline
        if not isinstance(block, dict):
            out.add(bline, "schema", f"{where}'when' must be a mapping of conditions (or a list)")
            continue
        conditions.append(_conditions(block, where, bline, out))
    return tuple(conditions)


def _conditions(block: Any, where: str, line: int, out: _Collector) -> Conditions:
    out.unknown(block, WHEN_KEYS, f"{where}when: ", line)
    hours = block.get("older_than_hours")
    if hours is not None and (
        isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0
    ):
        out.add(
            key_line(block, "older_than_hours", line),
            "schema",
            f"{where}'older_than_hours' must be a number of hours above 0",
        )
        hours = None
    outage = block.get("outage")
    if outage is not None and not isinstance(outage, bool):
        out.add(key_line(block, "outage", line), "schema", f"{where}'outage' must be true or false")
        outage = None
    return Conditions(
        categories=_words(block, "category", out, where),
        priorities=_words(block, "priority", out, where),
        tiers=_words(block, "tier", out, where),
        keywords=tuple(k.lower() for k in _words(block, "keywords", out, where)),
        tags=_words(block, "tags", out, where),
        runbook_outcome=_text(block, "runbook_outcome", out, where, line),
        runbook_level=_text(block, "runbook_level", out, where, line),
        older_than_hours=float(hours) if hours is not None else None,
        outage=outage,
        line=line,
        line_of={str(k): key_line(block, k, line) for k in block},
    )


def _default(data: Any, out: _Collector) -> Default | None:
    raw = data.get("default")
    if raw is None:
        out.add(
            node_line(data),
            "missing-default",
            "missing 'default' (the level and reason when no rule matches)",
        )
        return None
    line = key_line(data, "default")
    if not isinstance(raw, dict):
        out.add(line, "schema", "'default' must be a mapping with 'to' and 'reason'")
        return None
    out.unknown(raw, DEFAULT_KEYS, "default: ", line)
    to = _text(raw, "to", out, "default: ", line)
    reason = _text(raw, "reason", out, "default: ", line)
    if not to or not reason:
        out.add(line, "missing-field", "default: needs 'to' (a level) and 'reason'")
        return None
    return Default(to=to, reason=reason, line=key_line(raw, "to", line))
