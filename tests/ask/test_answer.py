"""The pure decision: what an ask gets, from the facts alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from franchise.ask.answer import ApprovalRoute, PendingStep, Situation, TemplateHint, choose_answer
from franchise.escalation.evaluate import EscalationDecision

DEFAULT_L2 = EscalationDecision(True, "L2", "default", False, "No runbook covers this ticket.")
NOT_YET = EscalationDecision(False, None, "runbook:vpn", False, "do step 'scope' next", "scope")
TO_OWNER = EscalationDecision(True, "owner", "spend-above-l2-boundary", False, "Only the owner.")
DC_DOWN = EscalationDecision(True, "owner", "domain-controller-down", True, "DC down.")
L2_EMERGENCY = EscalationDecision(True, "L2", "site-down", True, "Site down.")
STEP = PendingStep("vpn", "scope", "Is only this user failing?", "Firewall > VPN log")
BASE = Situation(
    ticket_id=7,
    reason="other",
    asker_level="L1",
    emergency_claimed=False,
    escalation=DEFAULT_L2,
    l2_on_duty=("Bo <bo@x.example>",),
)
DRILL = {"drill_id": 3, "drill_until": datetime(2026, 3, 5, tzinfo=UTC)}


def test_nothing_to_answer_with_is_an_interruption() -> None:
    answer = choose_answer(BASE)
    assert (answer.outcome, answer.kind, answer.emergency) == ("interruption", "owner", False)


def test_a_pending_step_answers_any_reason() -> None:
    for reason in ("other", "technical_decision", "approval", "customer_communication"):
        answer = choose_answer(replace(BASE, reason=reason, pending=STEP))
        assert answer.text == (
            "Do step 'scope' of runbook 'vpn': Is only this user failing? (Firewall > VPN log)"
        )


def test_an_approval_only_the_owner_can_give_is_not_deflected_to_the_runbook() -> None:
    route = ApprovalRoute("Buy a server", "pending", "owner", "above L2")
    answer = choose_answer(replace(BASE, reason="approval", approval=route, pending=STEP))
    assert (answer.outcome, answer.kind) == ("interruption", "owner")


def test_an_approval_at_the_askers_own_level_says_so() -> None:
    route = ApprovalRoute("Dock", "pending", "L2", "above L1")
    assert (
        "Ask Bo <bo@x.example>."
        in choose_answer(replace(BASE, reason="approval", approval=route)).text
    )
    at_l2 = choose_answer(replace(BASE, reason="approval", approval=route, asker_level="L2"))
    assert "That is your level: you decide." in at_l2.text


def test_escalation_answers() -> None:
    assert choose_answer(replace(BASE, reason="escalation")).kind == "escalation_level"
    pending = choose_answer(replace(BASE, reason="escalation", escalation=NOT_YET, pending=STEP))
    assert pending.kind == "escalation_pending"
    refused = EscalationDecision(False, None, "no-escalation", False, "Never for printers.")
    assert (
        choose_answer(replace(BASE, reason="escalation", escalation=refused)).kind
        == "escalation_refused"
    )
    owner = choose_answer(replace(BASE, reason="escalation", escalation=TO_OWNER, pending=STEP))
    assert (owner.outcome, owner.kind) == ("interruption", "owner")


def test_a_template_answers_a_client_message_question() -> None:
    hint = TemplateHint("progress-update", "update", "[#7] Update: VPN")
    answer = choose_answer(replace(BASE, reason="customer_communication", template=hint))
    assert answer.kind == "template"
    assert 'subject "[#7] Update: VPN"' in answer.text


def test_emergencies_come_from_the_map_even_in_a_drill() -> None:
    answer = choose_answer(replace(BASE, escalation=DC_DOWN, pending=STEP, **DRILL))
    assert (answer.outcome, answer.kind, answer.emergency) == ("interruption", "emergency", True)
    l2 = choose_answer(replace(BASE, escalation=L2_EMERGENCY, **DRILL))
    assert (l2.outcome, l2.kind, l2.emergency) == ("deflection", "escalation_level", True)


def test_a_drill_refuses_what_would_interrupt_with_guidance() -> None:
    answer = choose_answer(replace(BASE, emergency_claimed=True, **DRILL))
    assert (answer.outcome, answer.kind, answer.emergency) == ("refused", "drill_refused", False)
    assert "drill #3 until Thu 05 Mar 2026 00:00 UTC" in answer.text
    assert answer.guidance[0] == "L2 on duty: Bo <bo@x.example>."
    assert "emergency rule" in answer.guidance[-1]
    assert "Asked as an emergency" in answer.text
    assert answer.full_text.count("\n- ") == len(answer.guidance)


def test_a_drill_with_nobody_at_l2_says_so() -> None:
    answer = choose_answer(replace(BASE, l2_on_duty=(), **DRILL))
    assert "nobody active at L2" in answer.guidance[0]
