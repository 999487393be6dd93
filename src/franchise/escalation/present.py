"""The escalation map as plain data, shared by the CLI and the API."""

from __future__ import annotations

from typing import Any

from franchise.escalation.definition import Conditions, EscalationMap


def map_dict(esc_map: EscalationMap, revision: int) -> dict[str, Any]:
    return {
        "revision": revision,
        "levels": list(esc_map.levels),
        "runbook_emergency_levels": list(esc_map.runbook_emergency_levels),
        "rules": [
            {
                "name": rule.name,
                "when": [conditions_dict(block) for block in rule.when],
                "to": rule.to,
                "emergency": rule.emergency,
                "allow": rule.allow,
                "reason": rule.reason,
            }
            for rule in esc_map.rules
        ],
        "default": (
            {"to": esc_map.default.to, "reason": esc_map.default.reason}
            if esc_map.default
            else None
        ),
    }


def conditions_dict(block: Conditions) -> dict[str, Any]:
    """Only the conditions that are set, under the names used in the YAML."""
    data: dict[str, Any] = {
        "category": list(block.categories),
        "priority": list(block.priorities),
        "tier": list(block.tiers),
        "keywords": list(block.keywords),
        "tags": list(block.tags),
        "runbook_outcome": block.runbook_outcome,
        "runbook_level": block.runbook_level,
        "older_than_hours": block.older_than_hours,
        "outage": block.outage,
    }
    return {k: v for k, v in data.items() if v not in (None, [])}


def conditions_text(block: Conditions) -> str:
    """One line an owner can read: `priority high · tier premium · older than 4 h`."""
    parts = []
    for key, value in conditions_dict(block).items():
        if key == "older_than_hours":
            parts.append(f"older than {value:g} h")
        elif key == "outage":
            parts.append("an outage" if value else "not an outage")
        else:
            shown = ", ".join(value) if isinstance(value, list) else str(value)
            parts.append(f"{key.replace('_', ' ')} {shown}")
    return " · ".join(parts)
