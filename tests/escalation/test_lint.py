"""Escalation-map lint: every problem names its line (counted by hand from broken-map.yaml)."""

from __future__ import annotations

from pathlib import Path

from franchise.escalation.lint import lint_escalation
from franchise.escalation.service import STARTER

BROKEN = Path(__file__).parent / "broken-map.yaml"


def test_starter_map_passes_lint() -> None:
    esc_map, problems = lint_escalation(STARTER.read_text(encoding="utf-8"), str(STARTER))
    assert problems == []
    assert esc_map is not None
    assert esc_map.levels == ("L1", "L2", "owner")
    owner_rules = [r.name for r in esc_map.rules if r.to == "owner"]
    assert owner_rules == [
        "domain-controller-down",
        "confirmed-security-incident",
        "spend-above-l2-boundary",
        "client-executive-demands-owner",
    ]
    assert esc_map.default is not None


def test_lint_reports_each_problem_with_its_line() -> None:
    esc_map, problems = lint_escalation(BROKEN.read_text(encoding="utf-8"), "broken-map.yaml")
    assert esc_map is None
    assert {(p.line, p.code) for p in problems} == {
        (1, "missing-default"),
        (2, "unknown-field"),
        (6, "unknown-category"),
        (7, "unknown-priority"),
        (8, "unknown-tier"),
        (9, "unknown-level"),
        (11, "duplicate-rule"),
        (15, "contradiction"),
        (18, "bad-outcome"),
        (18, "schema"),
        (21, "unknown-field"),
        (22, "missing-field"),
        (23, "empty-when"),
    }
    assert all(p.file == "broken-map.yaml" for p in problems)
    duplicate = next(p for p in problems if p.code == "duplicate-rule")
    assert duplicate.message == "rule 'a' is already defined on line 4"


def test_lint_checks_levels_named_by_default_and_runbook_level() -> None:
    text = (
        "levels: [L1, L2, owner]\n"
        "rules:\n"
        "  - name: r\n"
        "    when: {runbook_outcome: resolved, runbook_level: boss}\n"
        "    to: L2\n"
        "    reason: x\n"
        "default:\n"
        "  to: manager\n"
        "  reason: y\n"
    )
    _, problems = lint_escalation(text, "m.yaml")
    assert {(p.line, p.code) for p in problems} == {
        (4, "unknown-level"),
        (4, "contradiction"),
        (8, "unknown-level"),
    }


def test_yaml_syntax_error_has_a_line() -> None:
    esc_map, problems = lint_escalation(
        "levels: [L1, L2]\nrules: : bad\ndefault: {to: L1, reason: x}\n", "bad.yaml"
    )
    assert esc_map is None
    assert [(p.code, p.line) for p in problems] == [("yaml-syntax", 2)]
