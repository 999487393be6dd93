"""Escalation-map lint: schema problems from the parser plus references and contradictions."""

from __future__ import annotations

from franchise.clients.models import TIERS
from franchise.escalation.definition import RUNBOOK_OUTCOMES, EscalationMap, Rule
from franchise.escalation.parse import parse_map
from franchise.runbooks.definition import CATEGORIES
from franchise.tickets.models import PRIORITIES
from franchise.yamldoc.problems import Problem


def lint_escalation(
    text: str, file: str = "<escalation>"
) -> tuple[EscalationMap | None, list[Problem]]:
    """Parse and check a map; the map is returned only when there is no problem at all."""
    esc_map, problems = parse_map(text, file)
    if esc_map is None:
        return None, problems
    problems = problems + check_map(esc_map, file)
    problems = sorted(set(problems), key=lambda p: (p.line, p.code, p.message))
    return (None if problems else esc_map), problems


def check_map(esc_map: EscalationMap, file: str) -> list[Problem]:
    problems: list[Problem] = []

    def add(line: int, code: str, message: str) -> None:
        problems.append(Problem(file, line, None, code, message))

    levels = esc_map.levels
    if len(set(levels)) != len(levels):
        add(esc_map.line_of.get("levels", 1), "duplicate-level", "a level is listed twice")
    for level in esc_map.runbook_emergency_levels:
        if level not in levels:
            add(
                esc_map.line_of.get("runbook_emergency_levels", 1),
                "unknown-level",
                f"runbook_emergency_levels: unknown level '{level}' (levels: {', '.join(levels)})",
            )
    if esc_map.default is not None and esc_map.default.to not in levels:
        add(
            esc_map.default.line,
            "unknown-level",
            f"default: unknown level '{esc_map.default.to}' (levels: {', '.join(levels)})",
        )
    first_line: dict[str, int] = {}
    for rule in esc_map.rules:
        if rule.name in first_line:
            add(
                rule.line,
                "duplicate-rule",
                f"rule '{rule.name}' is already defined on line {first_line[rule.name]}",
            )
        elif rule.name:
            first_line[rule.name] = rule.line
        for line, code, message in _rule_problems(rule, levels):
            add(line, code, f"rule '{rule.name or '?'}': {message}")
    return problems


def _rule_problems(rule: Rule, levels: tuple[str, ...]) -> list[tuple[int, str, str]]:
    found: list[tuple[int, str, str]] = []
    to_line = rule.line_of.get("to", rule.line)
    if rule.allow and not rule.to:
        found.append((rule.line, "missing-field", "needs 'to' (the level it sends to)"))
    elif rule.to and rule.to not in levels:
        found.append(
            (to_line, "unknown-level", f"unknown level '{rule.to}' (levels: {', '.join(levels)})")
        )
    if rule.emergency and not rule.allow:
        # An emergency that may not escalate would leave the technician alone with it.
        found.append(
            (
                rule.line_of.get("emergency", rule.line),
                "contradiction",
                "emergency with allow: false",
            )
        )
    for block in rule.when:
        line = block.line
        if block.empty:
            found.append(
                (line, "empty-when", "no conditions, so it matches everything (use 'default')")
            )
        at = block.line_of
        for value in block.categories:
            if value not in CATEGORIES:
                found.append(
                    (
                        at.get("category", line),
                        "unknown-category",
                        f"unknown category '{value}' (known: {', '.join(CATEGORIES)})",
                    )
                )
        found += _not_in(block.priorities, PRIORITIES, "priority", at.get("priority", line))
        found += _not_in(block.tiers, TIERS, "tier", at.get("tier", line))
        if block.runbook_outcome and block.runbook_outcome not in RUNBOOK_OUTCOMES:
            found.append(
                (
                    at.get("runbook_outcome", line),
                    "bad-outcome",
                    f"runbook_outcome '{block.runbook_outcome}' must be resolved or escalate",
                )
            )
        if block.runbook_level:
            if block.runbook_level not in levels:
                found.append(
                    (
                        at.get("runbook_level", line),
                        "unknown-level",
                        f"runbook_level: unknown level '{block.runbook_level}'",
                    )
                )
            if block.runbook_outcome == "resolved":
                found.append(
                    (
                        at["runbook_level"],
                        "contradiction",
                        "runbook_level only applies to runbook_outcome escalate",
                    )
                )
    return found


def _not_in(
    values: tuple[str, ...], known: tuple[str, ...], what: str, line: int
) -> list[tuple[int, str, str]]:
    return [
        (line, f"unknown-{what}", f"unknown {what} '{v}' (use {', '.join(known)})")
        for v in values
        if v not in known
    ]
