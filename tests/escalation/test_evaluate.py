"""The evaluator on hand-made facts: each condition, rule order, and the runbook-first rule."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from franchise.escalation.definition import EscalationMap, keywords_pattern
from franchise.escalation.evaluate import EscalationDecision, TicketFacts, evaluate
from franchise.escalation.lint import lint_escalation
from franchise.escalation.service import STARTER


def make_map(rules: str, default_to: str = "L1") -> EscalationMap:
    text = (
        "levels: [L1, L2, owner]\n"
        "runbook_emergency_levels: [owner]\n"
        f"rules:\n{rules}"
        f"default: {{to: {default_to}, reason: no rule}}\n"
    )
    esc_map, problems = lint_escalation(text, "test.yaml")
    assert esc_map is not None, [p.format() for p in problems]
    return esc_map


def one_rule(when: str) -> EscalationMap:
    return make_map(f"  - name: r\n    when:\n{when}    to: L2\n    reason: because\n")


VPN_PENDING = TicketFacts(
    category="vpn",
    runbook_key="vpn-auth-failure",
    run_step="scope",
    run_step_text="Look at the firewall VPN log. Is only this user failing?",
)

CONDITIONS = [
    pytest.param(
        "      category: [printer, backup]\n",
        TicketFacts(category="backup"),
        TicketFacts(category="vpn"),
        id="category",
    ),
    pytest.param(
        "      priority: critical\n",
        TicketFacts(priority="critical"),
        TicketFacts(priority="high"),
        id="priority",
    ),
    pytest.param(
        "      tier: [premium]\n",
        TicketFacts(tier="premium"),
        TicketFacts(tier="standard"),
        id="tier",
    ),
    pytest.param(
        "      keywords: [ransomware, compromised account confirmed]\n",
        TicketFacts(title="Help", body="Compromised\n account  CONFIRMED by the CFO"),
        TicketFacts(title="Install RansomwareProtect agent", body="account compromised?"),
        id="keywords-whole-words-any-case",
    ),
    pytest.param(
        "      tags: [spend-above-l2, vip]\n",
        TicketFacts(tags=("Spend-Above-L2",)),
        TicketFacts(tags=("spend",)),
        id="tags",
    ),
    pytest.param(
        "      runbook_outcome: resolved\n",
        TicketFacts(runbook_key="x", run_outcome="resolved", run_step="done"),
        TicketFacts(runbook_key="x", run_outcome="incomplete", run_step="a"),
        id="runbook-outcome",
    ),
    pytest.param(
        "      runbook_outcome: escalate\n      runbook_level: L2\n",
        TicketFacts(runbook_key="x", run_outcome="escalate", run_level="L2", run_step="e"),
        TicketFacts(runbook_key="x", run_outcome="escalate", run_level="owner", run_step="e"),
        id="runbook-level",
    ),
    pytest.param(
        "      older_than_hours: 4\n",
        TicketFacts(age_hours=4.01),
        TicketFacts(age_hours=3.99),
        id="older-than-hours",
    ),
    pytest.param(
        "      outage: true\n",
        TicketFacts(outage=True),
        TicketFacts(outage=False),
        id="outage",
    ),
    pytest.param(
        "      outage: false\n      priority: high\n",
        TicketFacts(outage=False, priority="high"),
        TicketFacts(outage=True, priority="high"),
        id="not-an-outage",
    ),
    pytest.param(
        "      tier: premium\n      priority: high\n",
        TicketFacts(tier="premium", priority="high"),
        TicketFacts(tier="premium", priority="normal"),
        id="all-conditions-must-hold",
    ),
    pytest.param(
        "      - tags: [exec-demands-owner]\n      - keywords: [speak to the owner]\n",
        TicketFacts(body="The MD wants to speak to the owner"),
        TicketFacts(body="The MD spoke to the team"),
        id="list-of-blocks-means-any",
    ),
]


@pytest.mark.parametrize(("when", "hit", "miss"), CONDITIONS)
def test_each_condition_matches_and_does_not_match(
    when: str, hit: TicketFacts, miss: TicketFacts
) -> None:
    esc_map = one_rule(when)
    matched = evaluate(esc_map, hit)
    assert (matched.allowed, matched.to, matched.rule) == (True, "L2", "r")
    assert evaluate(esc_map, miss).rule != "r"


def test_first_matching_rule_wins() -> None:
    first = "  - {name: crit, when: {priority: critical}, to: L2, reason: critical}\n"
    second = "  - {name: money, when: {tags: [spend-above-l2]}, to: owner, reason: money}\n"
    facts = TicketFacts(priority="critical", tags=("spend-above-l2",))
    assert evaluate(make_map(first + second), facts).rule == "crit"
    assert evaluate(make_map(second + first), facts).rule == "money"


def test_escalation_refused_until_runbook_checks_done() -> None:
    decision = evaluate(one_rule("      priority: critical\n"), VPN_PENDING)
    assert decision.allowed is False
    assert decision.to is None
    assert decision.rule == "runbook:vpn-auth-failure"
    assert decision.pending_step == "scope"
    assert "vpn-auth-failure" in decision.reason
    assert "do step 'scope' next (Look at the firewall VPN log.)" in decision.reason


def test_a_step_waiting_on_approval_allows_escalation_to_the_approvers_level() -> None:
    waiting = replace(VPN_PENDING, run_step="contain", blocked_level="L2", blocked_status="pending")
    decision = evaluate(one_rule("      priority: critical\n"), waiting)
    assert decision.allowed is True
    assert decision.to == "L2"
    assert decision.rule == "runbook:vpn-auth-failure/contain:approval"
    assert decision.emergency is False
    assert decision.pending_step == "contain"


@pytest.mark.parametrize(
    ("status", "state"),
    [("pending", "waits for approval by"), ("denied", "was denied by")],
)
def test_a_blocked_step_says_why_escalation_is_allowed(status: str, state: str) -> None:
    waiting = replace(VPN_PENDING, run_step="contain", blocked_level="L2", blocked_status=status)
    decision = evaluate(one_rule("      priority: critical\n"), waiting)
    assert decision.reason == (f"Step 'contain' {state} L2; escalating to L2 is allowed meanwhile.")


def test_a_finished_run_ignores_a_leftover_wait() -> None:
    # Only a step still to do can be waiting; a run that ended resolved stays "No".
    leftover = replace(
        VPN_PENDING,
        run_outcome="resolved",
        run_step="done",
        blocked_level="L2",
        blocked_status="denied",
    )
    decision = evaluate(one_rule("      priority: critical\n"), leftover)
    assert decision.allowed is False
    assert decision.rule == "runbook:vpn-auth-failure/done"


def test_a_refusing_rule_still_refuses_while_a_step_waits() -> None:
    refuse = "  - {name: no, when: {priority: low}, to: L2, allow: false, reason: never}\n"
    waiting = replace(VPN_PENDING, priority="low", blocked_level="L2", blocked_status="pending")
    decision = evaluate(make_map(refuse), waiting)
    assert (decision.allowed, decision.rule) == (False, "no")


def test_emergency_rule_allows_escalation_before_the_runbook() -> None:
    esc_map = make_map(
        "  - name: dc-down\n    when: {keywords: [dc down]}\n    to: owner\n"
        "    emergency: true\n    reason: phone the owner\n"
    )
    facts = TicketFacts(
        title="VPN fails for everyone, DC down?",
        category="vpn",
        runbook_key="vpn-auth-failure",
        run_step="scope",
    )
    decision = evaluate(esc_map, facts)
    assert (decision.allowed, decision.to, decision.emergency) == (True, "owner", True)
    assert decision.rule == "dc-down"
    # The runbook is still there to work through; the answer says where it stands.
    assert decision.pending_step == "scope"


def test_rule_with_allow_false_refuses_with_its_reason() -> None:
    esc_map = make_map(
        "  - name: low-stays\n    when: {priority: low}\n    to: L1\n    allow: false\n"
        "    reason: Low priority stays with L1 this week.\n",
        default_to="L2",
    )
    decision = evaluate(esc_map, TicketFacts(priority="low"))
    assert (decision.allowed, decision.rule) == (False, "low-stays")
    assert decision.reason == "Low priority stays with L1 this week."
    assert evaluate(esc_map, TicketFacts(priority="normal")).to == "L2"


def test_runbook_escalate_outcome_decides_when_no_rule_matches() -> None:
    facts = TicketFacts(
        category="vpn",
        runbook_key="vpn-auth-failure",
        run_outcome="escalate",
        run_level="owner",
        run_step="dc-trouble",
        run_step_text="Domain controller is not answering. Escalate to the owner immediately.",
    )
    decision = evaluate(one_rule("      priority: critical\n"), facts)
    assert decision.allowed is True
    assert decision.to == "owner"
    assert decision.rule == "runbook:vpn-auth-failure/dc-trouble"
    assert decision.emergency is True  # owner is in runbook_emergency_levels
    assert decision.reason.endswith("Domain controller is not answering.")
    assert decision.pending_step is None


def test_a_rule_never_lowers_the_runbooks_escalation() -> None:
    facts = TicketFacts(
        priority="critical",
        runbook_key="vpn-auth-failure",
        run_outcome="escalate",
        run_level="owner",
        run_step="dc-trouble",
    )
    decision = evaluate(one_rule("      priority: critical\n"), facts)
    assert (decision.to, decision.rule) == ("owner", "runbook:vpn-auth-failure/dc-trouble")


def test_resolved_run_needs_no_escalation() -> None:
    facts = TicketFacts(runbook_key="vpn-auth-failure", run_outcome="resolved", run_step="done")
    decision = evaluate(one_rule("      priority: critical\n"), facts)
    assert (decision.allowed, decision.pending_step) == (False, None)
    assert decision.rule == "runbook:vpn-auth-failure/done"


def test_no_runbook_means_the_default_applies() -> None:
    decision = evaluate(one_rule("      priority: critical\n"), TicketFacts(title="Odd request"))
    assert (decision.allowed, decision.to, decision.rule) == (True, "L1", "default")
    assert decision.reason == "no rule"


def test_franchise_own_escalate_tags_do_not_match_rules() -> None:
    esc_map = one_rule("      tags: ['escalate:owner']\n")
    assert evaluate(esc_map, TicketFacts(tags=("escalate:owner",))).rule == "default"


@pytest.mark.parametrize(
    ("title", "body", "rule"),
    [
        ("Files encrypted", "Ransomware note on the file server", "confirmed-security-incident"),
        ("SLA breach warning", "Ticket is about to breach its SLA", "default"),
        (
            "All users locked out",
            "Looks like the domain controller is down",
            "domain-controller-down",
        ),
        ("New laptop quote", "Needs approval", "default"),
        ("Open a port for the CRM", "Please add a port forward", "server-or-firewall-change"),
    ],
)
def test_starter_map_rules(title: str, body: str, rule: str) -> None:
    esc_map, problems = lint_escalation(Path(STARTER).read_text(encoding="utf-8"), "starter")
    assert esc_map is not None, problems
    assert evaluate(esc_map, TicketFacts(title=title, body=body)).rule == rule


def test_starter_map_premium_high_priority_after_four_hours() -> None:
    esc_map, _ = lint_escalation(Path(STARTER).read_text(encoding="utf-8"), "starter")
    assert esc_map is not None
    facts = TicketFacts(tier="premium", priority="high", age_hours=5, runbook_key="x", run_step="a")
    assert evaluate(esc_map, facts).rule == "premium-high-after-4-hours"
    young = TicketFacts(tier="premium", priority="high", age_hours=3, runbook_key="x", run_step="a")
    assert evaluate(esc_map, young).allowed is False


def test_older_than_hours_is_strict_at_exactly_four_hours() -> None:
    """'Older than 4 hours' means more than 4: a ticket exactly 4 hours old stays put."""
    esc_map = one_rule("      older_than_hours: 4\n")
    assert evaluate(esc_map, TicketFacts(age_hours=4.0)).rule != "r"
    assert evaluate(esc_map, TicketFacts(age_hours=4.0 + 1 / 3600)).rule == "r"


# --- whole decisions, so that every field is pinned (found by `make mutate`) ------------


def test_a_refusing_rule_gives_a_whole_refusal() -> None:
    esc_map = make_map(
        "  - name: no-vip\n    when: {tags: [vip]}\n    to: L2\n    allow: false\n"
        "    reason: VIP tickets stay with the account manager\n"
    )
    pending = TicketFacts(tags=("vip",), runbook_key="x", run_step="a")
    assert evaluate(esc_map, pending) == EscalationDecision(
        False, "L2", "no-vip", False, "VIP tickets stay with the account manager", "a"
    )


def test_an_allowing_rule_gives_a_whole_decision() -> None:
    assert evaluate(one_rule("      priority: critical\n"), TicketFacts(priority="critical")) == (
        EscalationDecision(True, "L2", "r", False, "because", None)
    )


def test_the_default_is_no_emergency() -> None:
    assert evaluate(make_map("  []\n"), TicketFacts()) == EscalationDecision(
        True, "L1", "default", False, "no rule", None
    )


def test_a_map_without_a_default_refuses() -> None:
    esc_map = replace(make_map("  []\n"), default=None)
    assert evaluate(esc_map, TicketFacts()) == EscalationDecision(
        False, None, "default", False, "The escalation map has no default.", None
    )


def test_a_resolved_runbook_refuses_with_its_reason() -> None:
    facts = TicketFacts(runbook_key="vpn", run_outcome="resolved", run_step="fixed")
    assert evaluate(make_map("  []\n"), facts) == EscalationDecision(
        False,
        None,
        "runbook:vpn/fixed",
        False,
        "Runbook 'vpn' resolved this ticket at step 'fixed'; "
        "if the problem is back, run the runbook again.",
        None,
    )


def test_a_runbook_escalation_to_a_non_emergency_level_is_no_emergency_unless_the_rule_is() -> None:
    facts = TicketFacts(
        runbook_key="vpn",
        run_outcome="escalate",
        run_level="L2",
        run_step="to-l2",
        run_step_text="Hand it to L2. Attach the log.",
        priority="normal",
    )
    plain = evaluate(make_map("  []\n"), facts)
    assert plain == EscalationDecision(
        True,
        "L2",
        "runbook:vpn/to-l2",
        False,
        "Runbook 'vpn' reached escalate step 'to-l2': Hand it to L2.",
        None,
    )
    urgent = make_map(
        "  - {name: u, when: {priority: normal}, to: L1, emergency: true, reason: r}\n"
    )
    assert evaluate(urgent, facts).emergency is True


def test_a_runbook_level_condition_needs_an_escalate_outcome() -> None:
    esc_map = one_rule("      runbook_level: L2\n")
    stopped = TicketFacts(runbook_key="x", run_outcome="resolved", run_level="L2", run_step="e")
    assert evaluate(esc_map, stopped).rule != "r"


def test_an_empty_when_block_matches_nothing() -> None:
    from franchise.escalation.definition import Conditions
    from franchise.escalation.evaluate import matches

    assert matches(Conditions(), TicketFacts(priority="critical")) is False


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("One. Two. Three.", "One."),
        ("Only one sentence", "Only one sentence"),
        ("  Spaced   out.  Next  ", "Spaced out."),
        (". Leading stop. Rest", "."),
    ],
)
def test_first_sentence(text: str, first: str) -> None:
    from franchise.escalation.evaluate import first_sentence

    assert first_sentence(text) == first


def test_a_decision_as_a_dict_names_every_field() -> None:
    decision = EscalationDecision(True, "L2", "r", True, "because", "scope")
    assert decision.to_dict() == {
        "allowed": True,
        "to": "L2",
        "rule": "r",
        "emergency": True,
        "reason": "because",
        "pending_step": "scope",
    }


def test_a_covering_runbook_refusal_is_whole() -> None:
    assert evaluate(make_map("  []\n"), VPN_PENDING) == EscalationDecision(
        False,
        None,
        "runbook:vpn-auth-failure",
        False,
        "Runbook 'vpn-auth-failure' covers this ticket and its checks are not done: "
        "do step 'scope' next (Look at the firewall VPN log.)",
        "scope",
    )


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("RANSOMWARE on the file server", True),
        ("Is this a data\n\tbreach?", True),
        ("c++ runtime crashed", True),
        ("Install RansomwareProtect; the breaches list; data-breachy", False),
        ("c+++ and cx runtime", False),
    ],
)
def test_a_conditions_keywords_match_whichever_one_is_there(text: str, found: bool) -> None:
    pattern = keywords_pattern(("ransomware", "data breach", "c++ runtime"))
    assert (pattern.search(text) is not None) is found
