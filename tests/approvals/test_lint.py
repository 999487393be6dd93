"""Lint of the boundaries document: every problem names its line."""

from __future__ import annotations

from franchise.approvals.parse import lint_boundaries, parse_boundaries
from franchise.approvals.service import STARTER_BOUNDARIES

BROKEN = """\
timeout:
  minutes: -10
  then: wait
levels:
  L1:
    max_cost: -5
    max_minutes: 1.5
    impacts: [none, huge]
    colour: red
  L3: {max_cost: 1, max_minutes: 1, impacts: [none]}
  L2:
    max_cost: 1000
    kinds:
      Bad_Kind: {max_cost: 1}
      licence-purchase: {allowed: maybe, max_cost: 12.345}
  owner: {max_cost: 5}
people:
  not-an-email: {max_cost: 1}
  sam@msp.example: {max_minutes: many}
extra: 1
"""


def test_starter_boundaries_lint_clean() -> None:
    assert lint_boundaries(STARTER_BOUNDARIES.read_text(encoding="utf-8")) == []


def test_every_problem_names_its_line_and_code() -> None:
    found = {(p.line, p.code) for p in lint_boundaries(BROKEN, "b.yaml")}
    assert found == {
        (2, "negative"),
        (3, "bad-timeout"),
        (5, "inverted-limits"),  # L1 allows impact none, L2 (impacts missing) none at all
        (6, "negative"),
        (7, "bad-number"),
        (8, "bad-impact"),
        (9, "unknown-field"),
        (10, "unknown-level"),
        (11, "missing-field"),  # L2 without max_minutes and impacts
        (14, "bad-kind"),
        (15, "schema"),  # allowed: maybe
        (15, "bad-number"),  # three decimals
        (16, "owner-limited"),
        (18, "bad-email"),
        (19, "bad-number"),
        (20, "unknown-field"),
    }


def test_problem_messages_say_what_is_wrong() -> None:
    messages = {p.line: p.message for p in lint_boundaries(BROKEN, "b.yaml")}
    assert messages[6] == "levels.L1.max_cost is -5; limits cannot be negative"
    assert "unknown impact 'huge' (use none, low, medium, high)" in messages[8]
    assert messages[9].startswith("unknown field 'levels.L1.colour'")
    assert messages[10] == "unknown level 'L3' (levels: L1, L2, owner)"
    assert "'not-an-email' is not an e-mail address" in messages[18]
    problem = lint_boundaries(BROKEN, "b.yaml")[0]
    assert problem.format().startswith("b.yaml:2: ")


def test_yaml_syntax_error_has_a_line() -> None:
    problems = lint_boundaries("levels:\n  L1: a: b\n", "b.yaml")
    assert [p.code for p in problems] == ["yaml-syntax"]
    assert problems[0].line == 2


def test_not_a_mapping_and_missing_levels() -> None:
    assert [p.code for p in lint_boundaries("- a\n- b\n")] == ["schema"]
    assert [p.code for p in lint_boundaries("timeout: {minutes: 30}\n")] == ["missing-field"]


def test_owner_is_always_unlimited_and_timeout_has_defaults() -> None:
    parsed, problems = parse_boundaries("levels:\n  L1: unlimited\n")
    assert problems == []
    assert parsed is not None
    assert parsed.levels["owner"].limits.unlimited
    assert parsed.levels["L1"].limits.unlimited
    assert (parsed.timeout.minutes, parsed.timeout.then) == (120, "escalate")


def test_person_emails_are_checked_only_for_format() -> None:
    parsed, problems = parse_boundaries(
        "levels: {L1: unlimited}\npeople:\n  Nobody@Unknown.example: {max_cost: 5}\n"
    )
    assert problems == []
    assert parsed is not None
    assert list(parsed.people) == ["nobody@unknown.example"]


def test_l1_may_not_have_more_say_than_l2() -> None:
    source = STARTER_BOUNDARIES.read_text(encoding="utf-8")
    l1_cost = next(line for line in source.splitlines() if line.strip().startswith("max_cost"))
    inverted = source.replace(l1_cost, l1_cost.split(":")[0] + ": 5000", 1)
    problems = lint_boundaries(inverted, "b.yaml")
    assert [(p.code, p.message) for p in problems] == [
        (
            "inverted-limits",
            "levels.L1.max_cost (5000) is above L2's (1000): a higher level never has less say",
        )
    ]
    # A revision stored before this check keeps deciding approvals.
    parsed, stored_problems = parse_boundaries(inverted, "<stored>", strict=False)
    assert parsed is not None and stored_problems == []
