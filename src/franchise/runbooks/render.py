"""Runbook definitions as plain dicts for JSON output and export."""

from __future__ import annotations

from typing import Any

from franchise.runbooks.definition import Runbook, Step


def step_dict(step: Step) -> dict[str, Any]:
    out: dict[str, Any] = {"id": step.id, "kind": step.kind, "text": step.text}
    if step.where:
        out["where"] = step.where
    if step.options:
        out["options"] = dict(step.options)
    if step.to:
        out["to"] = step.to
    if step.estimate:
        out["estimate"] = {
            "minutes": step.estimate.minutes,
            "cost": step.estimate.cost,
            "impact": step.estimate.impact,
            **({"kind": step.estimate.kind} if step.estimate.kind else {}),
            **({"recurring": r} if (r := step.estimate.recurring) != "once" else {}),
        }
    if step.template:
        out["template"] = step.template
    if step.done_when:
        out["done_when"] = list(step.done_when)
    for name in ("fact", "on_denied", "used_from", "added_option"):
        if getattr(step, name):
            out[name] = getattr(step, name)
    if step.emergency:
        out["emergency"] = True
    if step.review_by:
        out["review_by"] = step.review_by.isoformat()
    return out


def runbook_dict(runbook: Runbook) -> dict[str, Any]:
    return {
        "key": runbook.key,
        "title": runbook.title,
        "category": runbook.category,
        "status": runbook.status,
        "maintainer": runbook.maintainer,
        "description": runbook.description,
        "match": {"keywords": list(runbook.keywords), "alert_types": list(runbook.alert_types)},
        "inputs": [{"id": i.id, "label": i.label, "required": i.required} for i in runbook.inputs],
        "start": runbook.start,
        "steps": {sid: step_dict(step) for sid, step in runbook.steps.items()},
        "edge_cases": [
            {
                "when": e.when,
                "do": e.do,
                "steps": list(e.steps),
                "switch": e.switch,
                "escalate": e.escalate,
            }
            for e in runbook.edge_cases
        ],
        "sign_off": dict(runbook.sign_off),
        "done_when": list(runbook.done_when),
        "templates": dict(runbook.templates),
        "format": runbook.format,
        "review_by": runbook.review_by.isoformat() if runbook.review_by else None,
        "fallback": (
            {"to": runbook.fallback.to, "text": runbook.fallback.text} if runbook.fallback else None
        ),
    }
