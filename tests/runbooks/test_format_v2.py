"""Runbook format 2: fallback answers, done lists per ending, shared steps, estimates that
mean money, client facts, review dates, owner escalations as emergencies, edge cases."""

from __future__ import annotations

from datetime import date

import pytest

from franchise.runbooks import engine
from franchise.runbooks.definition import ACTION_FALLBACK_LABEL, FALLBACK_LABEL, is_way_out
from franchise.runbooks.lint import LintContext, lint_source
from franchise.runbooks.steplib import StepLibrary, parse_block

BLOCK = """\
key: verify-identity
title: Verify the caller
exits: [verified, not-verified]
start: callback
steps:
  callback:
    kind: check
    text: Call back the number on file.
    options: {"Confirmed": $verified, "No number on file": manager, "Cannot verify or not sure": $not-verified}
  manager:
    kind: check
    text: Ask the user's manager to confirm in writing.
    options: {"Manager confirmed": $verified, "Manager cannot confirm": $not-verified}
"""

RUNBOOK = """\
format: 2
key: unlock
title: Unlock an account
category: account-lockout
status: validated
review_by: 2027-03-31
fallback: {to: L2, text: Attach the sign-in log and what the user reported.}
done_when: [Root cause recorded in the ticket]
start: verify
steps:
  verify:
    use: verify-identity
    exits: {verified: source, not-verified: id-escalate}
  source:
    kind: check
    text: Which device locks the account (event 4740)?
    fact: identity
    review_by: 2026-12-01
    options: {"Phone with an old password": phone, "Hybrid": unlock}
  phone:
    kind: action
    text: Remove the old mail profile from the phone.
    estimate: {minutes: 10, cost: 0, impact: low}
    on_denied: id-escalate
    options: {"Removed": unlock}
  unlock:
    kind: resolve
    text: Account unlocked.
    done_when: [User signed in, Lockout source removed]
  id-escalate:
    kind: escalate
    to: L2
    text: Identity could not be verified.
  compromise:
    kind: escalate
    to: owner
    emergency: true
    text: Data is leaving the tenant.
edge_cases:
  - when: The user is abroad.
    do: Check for a password spray first.
    steps: [source]
    escalate: L2
  - when: Always true.
    do: Be polite.
"""


@pytest.fixture
def library() -> StepLibrary:
    block, problems = parse_block(BLOCK, "verify-identity.yaml")
    assert problems == [] and block is not None
    return StepLibrary({block.key: block})


def parse(text: str, library: StepLibrary) -> tuple[object, list[object]]:
    from franchise.runbooks.lint import check_runbook
    from franchise.runbooks.parse import parse_runbook

    runbook, problems = parse_runbook(text, "unlock.yaml", library)
    assert runbook is not None
    return runbook, [*problems, *check_runbook(runbook, "unlock.yaml", LintContext())]


def test_a_shared_block_expands_into_namespaced_steps_with_exits_mapped(
    library: StepLibrary,
) -> None:
    runbook, problems = parse(RUNBOOK, library)
    assert [p for p in problems if p.code != "unreachable"] == []  # type: ignore[attr-defined]
    steps = runbook.steps  # type: ignore[attr-defined]
    # The use step's id is the block's start; the other block steps are namespaced.
    assert steps["verify"].options["Confirmed"] == "source"
    assert steps["verify"].options["No number on file"] == "verify.manager"
    assert steps["verify.manager"].options == {
        "Manager confirmed": "source",
        "Manager cannot confirm": "id-escalate",
        FALLBACK_LABEL: "fallback",
    }
    assert steps["verify.manager"].used_from == "verify-identity"


def test_bad_uses_are_reported_at_the_use_line(library: StepLibrary) -> None:
    text = RUNBOOK.replace("exits: {verified: source, not-verified: id-escalate}", "exits: {ok: x}")
    _, problems = parse(text, library)
    bad = [(p.line, p.code) for p in problems if p.code == "bad-use"]  # type: ignore[attr-defined]
    assert len(bad) == 2 and {line for line, _ in bad} == {11}
    _, problems = parse(RUNBOOK.replace("use: verify-identity", "use: nope"), library)
    assert any("no shared step 'nope'" in p.message for p in problems)  # type: ignore[attr-defined]


def test_the_fallback_is_offered_on_checks_without_a_way_out(library: StepLibrary) -> None:
    runbook, _ = parse(RUNBOOK, library)
    steps = runbook.steps  # type: ignore[attr-defined]
    assert steps["source"].options[FALLBACK_LABEL] == "fallback"
    assert steps["source"].added_option == FALLBACK_LABEL
    # "Cannot verify" is a way out of its own: no extra answer there.
    assert FALLBACK_LABEL not in steps["verify"].options
    # An action's outcomes get it too, worded for something done: "Removed" may not be
    # what happened (no access to the phone, the user is away).
    assert steps["phone"].options == {"Removed": "unlock", ACTION_FALLBACK_LABEL: "fallback"}
    assert steps["phone"].added_option == ACTION_FALLBACK_LABEL
    assert (steps["fallback"].kind, steps["fallback"].to) == ("escalate", "L2")
    state = engine.answer(engine.answer(engine.start(runbook), "Confirmed"), FALLBACK_LABEL)  # type: ignore[arg-type]
    assert (state.outcome, state.level) == ("escalate", "L2")


def test_a_check_with_no_way_out_and_no_fallback_is_an_error_in_format_2() -> None:
    text = RUNBOOK.replace(
        "fallback: {to: L2, text: Attach the sign-in log and what the user reported.}\n", ""
    )
    _runbook, problems = lint_source(text, "unlock.yaml")
    codes = {(p.step, p.code, p.severity) for p in problems}
    assert ("source", "no-fallback", "error") in codes
    # The same file in format 1 only warns, so runbooks written before keep importing.
    _, v1 = lint_source(text.replace("format: 2\n", ""), "unlock.yaml")
    assert ("source", "no-fallback", "warning") in {(p.step, p.code, p.severity) for p in v1}


def test_an_owner_escalation_must_be_an_emergency() -> None:
    text = RUNBOOK.replace("    emergency: true\n", "")
    _, problems = lint_source(text, "unlock.yaml")
    owner = [p for p in problems if p.code == "owner-not-emergency"]
    assert [(p.step, p.severity) for p in owner] == [("compromise", "error")]


def test_done_lists_are_per_ending(library: StepLibrary) -> None:
    runbook, _ = parse(RUNBOOK, library)
    assert runbook.done_items("unlock") == (  # type: ignore[attr-defined]
        "Root cause recorded in the ticket",
        "User signed in",
        "Lockout source removed",
    )
    assert runbook.done_items("id-escalate") == ("Root cause recorded in the ticket",)  # type: ignore[attr-defined]


def test_done_when_on_a_non_ending_is_reported() -> None:
    text = RUNBOOK.replace(
        "    on_denied: id-escalate\n", "    on_denied: id-escalate\n    done_when: [x]\n"
    )
    _, problems = lint_source(text, "unlock.yaml")
    assert ("phone", "done-not-on-ending") in {(p.step, p.code) for p in problems}


def test_on_denied_must_lead_to_a_step() -> None:
    _, problems = lint_source(RUNBOOK.replace("on_denied: id-escalate", "on_denied: gone"), "u")
    assert ("phone", "unknown-target") in {(p.step, p.code) for p in problems}


def test_review_dates_and_facts_are_read(library: StepLibrary) -> None:
    runbook, _ = parse(RUNBOOK, library)
    assert runbook.review_by == date(2027, 3, 31)  # type: ignore[attr-defined]
    assert runbook.steps["source"].review_by == date(2026, 12, 1)  # type: ignore[attr-defined]
    assert runbook.steps["source"].fact == "identity"  # type: ignore[attr-defined]
    _, problems = lint_source(RUNBOOK.replace("review_by: 2027-03-31", "review_by: soon"), "u")
    assert any(p.code == "schema" and "review_by" in p.message for p in problems)


def test_recurring_costs_are_annualised() -> None:
    text = RUNBOOK.replace(
        "estimate: {minutes: 10, cost: 0, impact: low}",
        "estimate: {minutes: 10, cost: 12.5, impact: low, kind: licence-purchase, recurring: month}",
    )
    runbook, problems = lint_source(text, "u")
    assert runbook is not None
    estimate = runbook.steps["phone"].estimate
    assert estimate is not None and (estimate.recurring, estimate.annual_cost) == ("month", 150.0)
    _, problems = lint_source(text.replace("recurring: month", "recurring: weekly"), "u")
    assert any(p.code == "bad-estimate" and "recurring" in p.message for p in problems)


def test_unknown_action_kinds_are_reported_when_the_boundaries_are_known() -> None:
    text = RUNBOOK.replace("impact: low}", "impact: low, kind: firewal-change}")
    _, problems = lint_source(text, "u", LintContext(kinds=("firewall-change",)))
    assert ("phone", "unknown-kind") in {(p.step, p.code) for p in problems}


def test_edge_cases_belong_to_their_steps(library: StepLibrary) -> None:
    runbook, _ = parse(RUNBOOK, library)
    at_source = runbook.edge_cases_for("source")  # type: ignore[attr-defined]
    assert [c.when for c in at_source] == ["The user is abroad.", "Always true."]
    assert at_source[0].escalate == "L2"
    assert [c.when for c in runbook.edge_cases_for("phone")] == ["Always true."]  # type: ignore[attr-defined]
    _, problems = lint_source(RUNBOOK.replace("steps: [source]", "steps: [nowhere]"), "u")
    assert any(p.code == "unknown-target" and "nowhere" in p.message for p in problems)


def test_answers_may_be_given_by_their_number(library: StepLibrary) -> None:
    runbook, _ = parse(RUNBOOK, library)
    state = engine.start(runbook)  # type: ignore[arg-type]
    assert engine.answer(state, "1").current == "source"
    assert engine.answer(state, "2").current == "verify.manager"
    with pytest.raises(Exception, match="not an answer"):
        engine.answer(state, "4")
    assert engine.answer(state, "3").current == "id-escalate"  # "Cannot verify or not sure"


def test_the_runner_dict_names_the_next_step_its_options_and_edge_cases(
    library: StepLibrary,
) -> None:
    runbook, _ = parse(RUNBOOK, library)
    state = engine.answer(engine.start(runbook), "Confirmed")  # type: ignore[arg-type]
    nxt = state.to_dict()["next"]
    assert isinstance(nxt, dict)
    assert nxt["step"] == "source"
    assert nxt["options"] == ["Phone with an old password", "Hybrid", FALLBACK_LABEL]
    assert [c["when"] for c in nxt["edge_cases"]] == ["The user is abroad.", "Always true."]


@pytest.mark.parametrize(
    ("label", "way_out"),
    [
        ("Other or not sure", True),
        ("Unclear", True),
        ("Cannot tell", True),
        ("None of these", True),
        ("Another device", False),
        ("Otherwise fine", False),
        ("Other product", True),
        ("  Other VPN (GlobalProtect, SonicWall)", True),
        ("In the Other tab (Focused Inbox)", False),
        ("Could not do this / none of these", True),
        ("Succeeded", False),
    ],
)
def test_way_out_labels(label: str, way_out: bool) -> None:
    assert is_way_out(label) is way_out
