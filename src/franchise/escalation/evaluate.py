"""Answer "Escalation allowed: Yes/No, to whom, by which rule, and why". Pure: no I/O.

The order of the decision (the starter map's header says the same to the owner):

1. The map's rules, top to bottom; the first rule whose conditions match decides. A rule
   with `allow: false` says No. A rule never lowers a runbook's own escalate outcome: when
   the run already escalated higher, the runbook's level stands (step 2).
2. No rule matched, and the ticket's runbook run reached an `escalate` step: Yes, to the
   level that step names (rule `runbook:<key>/<step>`).
3. The run stands at an action step whose approval is pending or was denied: Yes, to the
   approver's level — a step waiting on someone never blocks escalating to them.
   A runbook covers the ticket and its checks are not done: No; do the pending step first.
   A run that ended `resolved` needs no escalation: No.
4. No runbook covers the ticket: the map's default.

So escalation is allowed only when a rule says so (an emergency at once), the runbook
reached an escalate outcome, or no runbook covers the ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from franchise.escalation.definition import Conditions, EscalationMap, Rule, keywords_pattern

# Tags Franchise writes itself (`escalate:L2`); matching on them would feed an answer back
# into the question.
OWN_TAG_PREFIX = "escalate:"


@dataclass(frozen=True)
class TicketFacts:
    """What the map looks at; gathered from the database by the service."""

    category: str | None = None
    priority: str = "normal"
    tier: str | None = None
    title: str = ""
    body: str = ""
    tags: tuple[str, ...] = ()
    age_hours: float = 0.0
    # An outage ticket: the parent of many alert groups of one client or site.
    outage: bool = False
    # The runbook that covers the ticket (its run's runbook, else the one attached or the
    # category's); None when no runbook covers it.
    runbook_key: str | None = None
    # "resolved", "escalate", "incomplete" (a run waits for an answer) or None (no run yet).
    run_outcome: str | None = None
    run_level: str | None = None
    # The step the run is at (the next to do, or where it ended); the start step if no run.
    run_step: str | None = None
    run_step_text: str = ""
    # The level an approval of the run's current step waits for (pending) or was refused by
    # (denied); None when the step is not blocked.
    blocked_level: str | None = None
    blocked_status: str | None = None

    @property
    def covered(self) -> bool:
        return self.runbook_key is not None

    @property
    def finished(self) -> bool:
        return self.run_outcome in ("resolved", "escalate")

    @property
    def pending_step(self) -> str | None:
        return self.run_step if self.covered and not self.finished else None


@dataclass(frozen=True)
class EscalationDecision:
    allowed: bool
    to: str | None
    # A rule name, "runbook:<key>/<step>" (the run's outcome), "runbook:<key>" (its checks
    # are not done) or "default".
    rule: str
    emergency: bool
    reason: str
    pending_step: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "to": self.to,
            "rule": self.rule,
            "emergency": self.emergency,
            "reason": self.reason,
            "pending_step": self.pending_step,
        }


def evaluate(esc_map: EscalationMap, facts: TicketFacts) -> EscalationDecision:
    pending = facts.pending_step
    rule = first_match(esc_map, facts)
    run_level = facts.run_level if facts.run_outcome == "escalate" else None
    if rule is not None:
        if not rule.allow:
            return EscalationDecision(False, rule.to, rule.name, False, rule.reason, pending)
        if run_level is None or esc_map.rank(run_level) <= esc_map.rank(rule.to):
            return EscalationDecision(
                True, rule.to, rule.name, rule.emergency, rule.reason, pending
            )
    if run_level is not None:
        emergency = run_level in esc_map.runbook_emergency_levels or bool(rule and rule.emergency)
        return EscalationDecision(
            True,
            run_level,
            f"runbook:{facts.runbook_key}/{facts.run_step}",
            emergency,
            f"Runbook '{facts.runbook_key}' reached escalate step '{facts.run_step}': "
            f"{first_sentence(facts.run_step_text)}",
        )
    if facts.run_outcome == "resolved":
        return EscalationDecision(
            False,
            None,
            f"runbook:{facts.runbook_key}/{facts.run_step}",
            False,
            f"Runbook '{facts.runbook_key}' resolved this ticket at step '{facts.run_step}'; "
            "if the problem is back, run the runbook again.",
        )
    if facts.blocked_level is not None and facts.covered and not facts.finished:
        state = "waits for approval by" if facts.blocked_status == "pending" else "was denied by"
        return EscalationDecision(
            True,
            facts.blocked_level,
            f"runbook:{facts.runbook_key}/{facts.run_step}:approval",
            False,
            f"Step '{pending}' {state} {facts.blocked_level}; escalating to "
            f"{facts.blocked_level} is allowed meanwhile.",
            pending,
        )
    if facts.covered:
        return EscalationDecision(
            False,
            None,
            f"runbook:{facts.runbook_key}",
            False,
            f"Runbook '{facts.runbook_key}' covers this ticket and its checks are not done: "
            f"do step '{pending}' next ({first_sentence(facts.run_step_text)})",
            pending,
        )
    if esc_map.default is None:
        return EscalationDecision(
            False, None, "default", False, "The escalation map has no default."
        )
    return EscalationDecision(True, esc_map.default.to, "default", False, esc_map.default.reason)


def first_match(esc_map: EscalationMap, facts: TicketFacts) -> Rule | None:
    for rule in esc_map.rules:
        if any(matches(block, facts) for block in rule.when):
            return rule
    return None


def matches(block: Conditions, facts: TicketFacts) -> bool:
    """Every condition given must hold; within one condition any listed value will do."""
    if block.empty:
        return False
    if block.categories and facts.category not in block.categories:
        return False
    if block.priorities and facts.priority not in block.priorities:
        return False
    if block.tiers and facts.tier not in block.tiers:
        return False
    if block.tags:
        own = {t.lower() for t in facts.tags if not t.lower().startswith(OWN_TAG_PREFIX)}
        if not own & {t.lower() for t in block.tags}:
            return False
    if block.keywords:
        text = f"{facts.title}\n{facts.body}"
        if not keywords_pattern(block.keywords).search(text):
            return False
    if block.runbook_outcome and facts.run_outcome != block.runbook_outcome:
        return False
    if block.runbook_level and (
        facts.run_outcome != "escalate" or facts.run_level != block.runbook_level
    ):
        return False
    if block.outage is not None and facts.outage != block.outage:
        return False
    return block.older_than_hours is None or facts.age_hours > block.older_than_hours


def first_sentence(text: str) -> str:
    """The first sentence of step text: reasons stay short, the step has the details."""
    text = " ".join(text.split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]
