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
        }
    if step.template:
        out["template"] = step.template
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
        "edge_cases": [{"when": e.when, "do": e.do} for e in runbook.edge_cases],
        "sign_off": dict(runbook.sign_off),
        "done_when": list(runbook.done_when),
        "templates": dict(runbook.templates),
    }
