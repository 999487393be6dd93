"""The audit: a 0-100 score, the #1 bottleneck and what to do next. Pure: facts in, report out.

The score is the sum of six measured components (points rounded to one decimal, the score
to a whole number):

| component | weight | value | points |
|---|---|---|---|
| `interruptions` | 30 | the KPI's 4-week average (last 4 complete weeks) | 30 at or under `kpi_target_max`; falling linearly to 0 at `max(5 x target, 10)` per week |
| `runbook_coverage` | 20 | share of the ten busiest ticket categories (last 56 days) with a validated runbook | 20 x share; with no categorised tickets, share of the ten known categories |
| `fresh_runbooks` | 15 | share of non-archived runbooks that are validated and created or revised in the last 90 days | 15 x share; 0 with no runbooks |
| `policies` | 10 | stored escalation map and approval boundaries (the starter ones count) | 5 each |
| `drill` | 15 | the latest drill that ended in the last 31 days | 15 if reviewed (every contact that reached or tried to reach the owner during it has a closed review item), 5 if only held, 0 if none |
| `lessons_on_time` | 10 | share of lessons captured in the last 56 days applied before their week ended | 10 x share; rejected lessons, and pending ones whose week is not over, are left out; 0 when there are none (the loop is not running) |

The bottleneck is the reason (approval, escalation, customer_communication,
technical_decision) with the most interruptions in the last 28 days; ties go in that
order. Other reasons, deflections and refusals do not count. With no interruptions there is
no bottleneck.

The runbook to write next is the busiest category (last 56 days) without a validated
runbook; when every busy category has one, the category whose tickets caused the most
interruptions in the last 56 days (its runbook needs extending).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from franchise.wording import plural

WEIGHTS = {
    "interruptions": 30,
    "runbook_coverage": 20,
    "fresh_runbooks": 15,
    "policies": 10,
    "drill": 15,
    "lessons_on_time": 10,
}
DRILL_HELD_POINTS = 5
BOTTLENECKS = (
    ("approval", "approvals"),
    ("escalation", "escalations"),
    ("customer_communication", "customer_communication"),
    ("technical_decision", "technical_decisions"),
)
LEVELS = ("L1", "L2", "owner")
# Which client message a ticket in this status needs (the template stages).
STAGE_OF_STATUS = {
    "new": "acknowledged",
    "in_progress": "update",
    "waiting_on_approval": "update",
    "waiting_on_client": "waiting-on-client",
    "escalated": "escalated",
    "ready_to_resolve": "update",
    "resolved": "resolved",
    "closed": "resolved",
}


@dataclass(frozen=True)
class ApprovalKind:
    kind: str | None
    level: str | None
    count: int
    max_cost: float


@dataclass(frozen=True)
class AuditFacts:
    """What the audit measured; the service gathers it with a few aggregate queries."""

    four_week_average: float
    target_max: float
    # (category, tickets in the last 56 days), busiest first.
    busiest: list[tuple[str, int]]
    known_categories: tuple[str, ...]
    # category -> runbook key, for non-archived runbooks (validated ones preferred).
    runbook_of: dict[str, str]
    validated_categories: frozenset[str]
    runbooks_active: int
    runbooks_fresh_validated: int
    escalation_map_stored: bool
    boundaries_stored: bool
    drill_held: bool
    drill_reviewed: bool
    drill_detail: str
    lessons_due: int
    lessons_on_time: int
    lessons_overdue: int
    interruptions_by_reason: dict[str, int]
    approval_kinds: list[ApprovalKind] = field(default_factory=list)
    # (rule name, escalations that reached the owner), most first.
    escalation_rules: list[tuple[str, int]] = field(default_factory=list)
    # (ticket status, customer-communication interruptions), most first.
    communication_statuses: list[tuple[str, int]] = field(default_factory=list)
    # (category, technical-decision interruptions), most first.
    technical_categories: list[tuple[str, int]] = field(default_factory=list)
    # (category, interruptions on tickets of it in the last 56 days), most first.
    owner_categories: list[tuple[str, int]] = field(default_factory=list)
    # Runbooks whose review date (review_by) has come: their facts must be checked again.
    review_due: tuple[str, ...] = ()


def _component(name: str, value: float | None, share: float, detail: str) -> dict[str, Any]:
    weight = WEIGHTS[name]
    points = round(weight * min(max(share, 0.0), 1.0), 1)
    return {"name": name, "weight": weight, "value": value, "points": points, "detail": detail}


def interruption_points_share(average: float, target_max: float) -> float:
    """1 at or under the target, 0 at max(5 x target, 10) per week, linear between."""
    zero_at = max(5 * target_max, 10.0)
    if average <= target_max:
        return 1.0
    if average >= zero_at:
        return 0.0
    return (zero_at - average) / (zero_at - target_max)


def components(facts: AuditFacts) -> list[dict[str, Any]]:
    avg, target = facts.four_week_average, facts.target_max
    top = [c for c, _ in facts.busiest[:10]] or list(facts.known_categories)
    covered = [c for c in top if c in facts.validated_categories]
    missing = [c for c in top if c not in facts.validated_categories]
    coverage = len(covered) / len(top) if top else 0.0
    fresh = facts.runbooks_fresh_validated / facts.runbooks_active if facts.runbooks_active else 0.0
    stored = int(facts.escalation_map_stored) + int(facts.boundaries_stored)
    drill_points = (
        WEIGHTS["drill"] if facts.drill_reviewed else DRILL_HELD_POINTS if facts.drill_held else 0
    )
    on_time = facts.lessons_on_time / facts.lessons_due if facts.lessons_due else 0.0
    basis = "busiest categories (56 days)" if facts.busiest else "known categories (no tickets)"
    return [
        _component(
            "interruptions",
            avg,
            interruption_points_share(avg, target),
            f"4-week average {avg:g} per week against a target of 0-{target:g}",
        ),
        _component(
            "runbook_coverage",
            round(coverage, 3),
            coverage,
            f"{len(covered)} of {len(top)} {basis} have a validated runbook"
            + (f"; missing: {', '.join(missing)}" if missing else ""),
        ),
        _component(
            "fresh_runbooks",
            round(fresh, 3),
            fresh,
            f"{facts.runbooks_fresh_validated} of {facts.runbooks_active} active runbooks are "
            "validated and revised within 90 days",
        ),
        _component(
            "policies",
            stored,
            stored / 2,
            f"escalation map {'stored' if facts.escalation_map_stored else 'missing'}, "
            f"approval boundaries {'stored' if facts.boundaries_stored else 'missing'}",
        ),
        _component("drill", drill_points, drill_points / WEIGHTS["drill"], facts.drill_detail),
        _component(
            "lessons_on_time",
            round(on_time, 3),
            on_time,
            f"{facts.lessons_on_time} of {facts.lessons_due} lessons (56 days) applied before "
            "their week ended"
            if facts.lessons_due
            else "no lessons due in the last 56 days: capture what tickets teach",
        ),
    ]


def bottleneck(by_reason: dict[str, int]) -> str | None:
    """The reason with most interruptions; ties in the order of BOTTLENECKS."""
    best: str | None = None
    best_count = 0
    for reason, name in BOTTLENECKS:
        if by_reason.get(reason, 0) > best_count:
            best, best_count = name, by_reason[reason]
    return best


def _level_below(level: str | None) -> str:
    if level in LEVELS[1:]:
        return LEVELS[LEVELS.index(level) - 1]
    return "L1"


def bottleneck_actions(name: str, facts: AuditFacts) -> tuple[str, list[str]]:
    reason = next(r for r, n in BOTTLENECKS if n == name)
    count = facts.interruptions_by_reason.get(reason, 0)
    detail = f"{plural(count, reason.replace('_', ' ') + ' interruption')} in the last 28 days"
    if name == "approvals":
        if not facts.approval_kinds:
            return detail, [
                f"review boundaries: {count} approval interruptions and no approval request "
                "recorded; ask through `franchise approve` so the kinds show"
            ]
        top = facts.approval_kinds[0]
        kind = top.kind or "actions with no kind"
        return detail, [
            f"raise the {_level_below(top.level)} cost limit for {kind}: {plural(top.count, 'request')} "
            f"waited on {top.level or 'a person'} in 28 days, the largest {top.max_cost:g}",
            f"review boundaries: {count} approval interruptions, top action kind {kind}",
        ]
    if name == "escalations":
        if facts.escalation_rules:
            rule, n = facts.escalation_rules[0]
            return detail, [
                f"tighten rule {rule}: {plural(n, 'escalation')} through it reached the owner",
                "close each escalation interruption in the weekly review with a rule change",
            ]
        return detail, [
            f"review the escalation map: {count} escalations reached the owner with no rule "
            "recorded on the ticket"
        ]
    if name == "customer_communication":
        if facts.communication_statuses:
            status, n = facts.communication_statuses[0]
            stage = STAGE_OF_STATUS.get(status, "update")
            return detail, [
                f"add a template for stage {stage}: {plural(n, 'interruption')} on tickets in "
                f"{status}"
            ]
        return detail, ["add client message templates for what technicians ask the owner to say"]
    if facts.technical_categories:
        category, n = facts.technical_categories[0]
        key = facts.runbook_of.get(category)
        verb = f"extend runbook {key}" if key else "write a runbook"
        what = plural(n, "technical-decision interruption")
        return detail, [f"{verb} for category {category}: {what}"]
    return detail, ["write runbook steps for the decisions technicians bring to the owner"]


def write_next(facts: AuditFacts) -> dict[str, Any] | None:
    for category, n in facts.busiest:
        if category not in facts.validated_categories:
            return {
                "category": category,
                "reason": f"busiest category without a validated runbook: {n} tickets in 56 days",
                "runbook": facts.runbook_of.get(category),
            }
    if facts.owner_categories:
        category, n = facts.owner_categories[0]
        return {
            "category": category,
            "reason": f"its tickets reached the owner most: {plural(n, 'interruption')} in 56 days",
            "runbook": facts.runbook_of.get(category),
        }
    return None


def build_audit(facts: AuditFacts) -> dict[str, Any]:
    parts = components(facts)
    name = bottleneck(facts.interruptions_by_reason)
    actions: list[str] = []
    if name is None:
        detail = "no interruptions in the last 28 days"
    else:
        detail, actions = bottleneck_actions(name, facts)
    actions += _component_actions(parts, facts)
    return {
        "score": round(sum(c["points"] for c in parts)),
        "components": parts,
        "bottleneck": name,
        "bottleneck_detail": detail,
        "next_actions": actions,
        "write_next": write_next(facts),
        "review_due": list(facts.review_due),
    }


def _component_actions(parts: list[dict[str, Any]], facts: AuditFacts) -> list[str]:
    """One action for each weak non-KPI component (the KPI is the bottleneck's job)."""
    points = {c["name"]: c["points"] for c in parts}
    out = []
    if facts.lessons_overdue:
        out.append(f"fold {plural(facts.lessons_overdue, 'overdue lesson')} into their runbooks")
    if facts.review_due:
        out.append("review runbook(s) past their review date: " + ", ".join(facts.review_due))
    if points["drill"] < WEIGHTS["drill"]:
        out.append("finish the drill review" if facts.drill_held else "hold an owner-offline drill")
    if points["policies"] < WEIGHTS["policies"]:
        out.append("store the escalation map and approval boundaries (`franchise init`)")
    return out
