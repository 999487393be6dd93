"""Runbook lint: one broken fixture per defect, each problem located by file, line and step.

The expected line numbers below were counted by hand from the fixture files in `broken/`;
they are the point of these tests (a technician is sent to that line to fix it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from franchise.runbooks.definition import MAX_STEPS
from franchise.runbooks.lint import LintContext, lint_files, lint_source
from franchise.yamldoc.problems import Problem

BROKEN = Path(__file__).parent / "broken"

VALID = """\
key: printer-jam
title: Printer jam
category: printer
status: draft
start: check-paper
steps:
  check-paper:
    kind: check
    text: Is paper stuck in the tray?
    options:
      "Yes": clear-jam
      "No": escalate-l2
  clear-jam:
    kind: action
    text: Remove the stuck paper.
    estimate: {minutes: 5, cost: 0, impact: low}
    options:
      Printing again: done
      Still jammed: escalate-l2
  done:
    kind: resolve
    text: Printer works.
  escalate-l2:
    kind: escalate
    to: L2
    text: Send to L2 with the printer model.
"""


def lint_fixture(name: str) -> list[Problem]:
    """Lint one fixture through `lint_files`, checking every problem names that file."""
    path = BROKEN / name
    assert path.is_file(), f"missing fixture {path}"
    report = lint_files([path])
    for problem in report.problems:
        assert problem.file == str(path)
    # The broken fixtures are format 1 files: the format 2 rules only warn there.
    return report.errors


def located(problems: list[Problem]) -> list[tuple[int, str | None, str]]:
    return sorted((p.line, p.step, p.code) for p in problems)


def only(problems: list[Problem]) -> Problem:
    problems = [p for p in problems if p.is_error]
    assert len(problems) == 1, [p.format() for p in problems]
    return problems[0]


# --- the control: a correct runbook is clean --------------------------------------------


def test_valid_runbook_has_no_problems() -> None:
    runbook, problems = lint_source(VALID, "valid.yaml")
    assert [p for p in problems if p.is_error] == []
    assert runbook is not None
    assert runbook.key == "printer-jam"
    assert list(runbook.steps) == ["check-paper", "clear-jam", "done", "escalate-l2"]
    assert runbook.steps["clear-jam"].line == 13
    assert runbook.steps["check-paper"].option_lines == {"Yes": 11, "No": 12}


# --- one defect per fixture ---------------------------------------------------------------


def test_unknown_start_is_reported_on_the_start_line() -> None:
    problem = only(lint_fixture("unknown-start.yaml"))
    assert (problem.line, problem.step, problem.code) == (5, None, "unknown-start")
    assert "check-papr" in problem.message


def test_missing_start_is_reported_at_the_top_of_the_document() -> None:
    # Line 1 is a comment; the mapping (and so the missing field) begins on line 2.
    problem = only(lint_fixture("missing-start.yaml"))
    assert (problem.line, problem.step, problem.code) == (2, None, "missing-field")
    assert "'start'" in problem.message


def test_option_to_missing_step_is_reported_with_its_line() -> None:
    # The option line (11), not the step line (7).
    problem = only(lint_fixture("unknown-target.yaml"))
    assert (problem.line, problem.step, problem.code) == (11, "check-paper", "unknown-target")
    assert "'clear-jam'" in problem.message
    assert "'Yes'" in problem.message


def test_unreachable_step_is_reported_on_its_own_line() -> None:
    problem = only(lint_fixture("unreachable.yaml"))
    assert (problem.line, problem.step, problem.code) == (16, "orphan", "unreachable")


def test_check_and_action_steps_without_options_are_reported() -> None:
    problems = lint_fixture("no-options.yaml")
    assert located(problems) == [
        (14, "clear-jam", "no-options"),
        (18, "look-closer", "no-options"),
    ]
    by_step = {p.step: p.message for p in problems}
    assert by_step["clear-jam"].startswith("action step")
    assert by_step["look-closer"].startswith("check step")


def test_cycle_without_exit_reports_every_step_in_the_cycle() -> None:
    assert located(lint_fixture("no-exit.yaml")) == [
        (13, "power-cycle", "no-exit"),
        (19, "check-again", "no-exit"),
    ]


def test_escalate_to_unknown_level_is_reported() -> None:
    problem = only(lint_fixture("unknown-level.yaml"))
    assert (problem.line, problem.step, problem.code) == (16, "escalate-l3", "unknown-level")
    assert "'L3'" in problem.message


def test_unknown_level_is_accepted_when_the_context_defines_it() -> None:
    text = (BROKEN / "unknown-level.yaml").read_text()
    _, problems = lint_source(text, "x.yaml", LintContext(levels=("L1", "L2", "L3", "owner")))
    assert [p for p in problems if p.is_error] == []


def test_escalate_without_to_is_reported() -> None:
    problem = only(lint_fixture("escalate-without-to.yaml"))
    assert (problem.line, problem.step, problem.code) == (
        16,
        "escalate",
        "escalate-without-level",
    )


def test_action_without_estimate_is_reported() -> None:
    problem = only(lint_fixture("missing-estimate.yaml"))
    assert (problem.line, problem.step, problem.code) == (13, "clear-jam", "missing-estimate")


def test_bad_estimate_values_are_reported_on_the_estimate_line() -> None:
    problems = lint_fixture("bad-estimate.yaml")
    bad = [p for p in problems if p.code == "bad-estimate"]
    assert located(bad) == [
        (10, "negative-minutes", "bad-estimate"),
        (15, "fractional-minutes", "bad-estimate"),
        (23, "text-cost", "bad-estimate"),
        (28, "huge-impact", "bad-estimate"),
        (33, "no-minutes", "bad-estimate"),
    ]
    messages = {p.step: p.message for p in bad}
    assert "minutes" in messages["negative-minutes"]
    assert "minutes" in messages["fractional-minutes"]
    assert "cost" in messages["text-cost"]
    assert "'huge'" in messages["huge-impact"]
    assert "minutes" in messages["no-minutes"]
    # Nothing else is wrong with this file besides the estimates.
    assert {p.code for p in problems} <= {"bad-estimate", "missing-estimate"}


def test_unknown_category_is_reported() -> None:
    problem = only(lint_fixture("unknown-category.yaml"))
    assert (problem.line, problem.step, problem.code) == (3, None, "unknown-category")
    assert "'plotters'" in problem.message


def test_unknown_status_is_reported() -> None:
    problem = only(lint_fixture("unknown-status.yaml"))
    assert (problem.line, problem.step, problem.code) == (4, None, "unknown-status")
    assert "'published'" in problem.message


def test_unknown_top_level_field_is_reported() -> None:
    problem = only(lint_fixture("unknown-top-field.yaml"))
    assert (problem.line, problem.step, problem.code) == (5, None, "unknown-field")
    assert "'owner'" in problem.message


def test_unknown_step_field_is_reported_with_its_step() -> None:
    problem = only(lint_fixture("unknown-step-field.yaml"))
    assert (problem.line, problem.step, problem.code) == (16, "done", "unknown-field")
    assert "'next'" in problem.message


def test_bad_step_kind_is_reported() -> None:
    problem = only(lint_fixture("bad-kind.yaml"))
    assert (problem.line, problem.step, problem.code) == (21, "ask-user", "bad-kind")
    assert "'question'" in problem.message


def test_yaml_syntax_error_is_reported_with_its_line() -> None:
    problem = only(lint_fixture("yaml-syntax.yaml"))
    assert (problem.line, problem.step, problem.code) == (9, None, "yaml-syntax")


def test_duplicate_step_id_in_one_file_is_a_yaml_error_on_the_second_occurrence() -> None:
    text = (
        "key: dup-step\ntitle: t\ncategory: printer\nstatus: draft\nstart: a\nsteps:\n"
        "  a: {kind: check, text: x, options: {go: a}}\n"
        "  a: {kind: resolve, text: ok}\n"
    )
    runbook, problems = lint_source(text, "dup.yaml")
    assert runbook is None
    assert [(p.file, p.line, p.code) for p in problems] == [("dup.yaml", 8, "yaml-syntax")]


def test_non_mapping_document_is_reported() -> None:
    problem = only(lint_fixture("not-a-mapping.yaml"))
    assert (problem.line, problem.step, problem.code) == (1, None, "schema")
    assert "mapping" in problem.message


def test_duplicate_key_across_two_files_is_reported_on_the_second_file() -> None:
    first, second = BROKEN / "duplicate-key-a.yaml", BROKEN / "duplicate-key-b.yaml"
    report = lint_files([first, second])
    problem = only(report.problems)
    # In the second file `key` is on line 5 (after a comment and three other fields).
    assert (problem.file, problem.line, problem.step, problem.code) == (
        str(second),
        5,
        None,
        "duplicate-key",
    )
    assert "'printer-duplicate'" in problem.message
    assert str(first) in problem.message
    assert [path for path, _ in report.runbooks] == [str(first), str(second)]


def test_each_duplicate_key_file_is_clean_on_its_own() -> None:
    assert lint_fixture("duplicate-key-a.yaml") == []
    assert lint_fixture("duplicate-key-b.yaml") == []


def test_options_on_resolve_step_are_reported() -> None:
    problem = only(lint_fixture("options-on-resolve.yaml"))
    assert (problem.line, problem.step, problem.code) == (13, "done", "options-on-end")


def test_too_many_steps_is_reported_on_the_steps_line() -> None:
    problem = only(lint_fixture("too-many-steps.yaml"))
    assert (problem.line, problem.step, problem.code) == (6, None, "too-long")
    assert f"{MAX_STEPS + 1} steps" in problem.message


def test_exactly_max_steps_is_allowed() -> None:
    lines = (BROKEN / "too-many-steps.yaml").read_text().splitlines()
    # Drop s30 (line 36) and point s29 straight at `done`: MAX_STEPS steps remain.
    kept = [line for n, line in enumerate(lines, 1) if n != 36]
    text = "\n".join(kept).replace("{next: s30}", "{next: done}") + "\n"
    runbook, problems = lint_source(text, "x.yaml")
    assert runbook is not None
    assert len(runbook.steps) == MAX_STEPS
    assert [p for p in problems if p.is_error] == []


def test_file_with_several_defects_reports_all_of_them() -> None:
    problems = lint_fixture("several-defects.yaml")
    assert located(problems) == [
        (3, None, "unknown-category"),
        (5, None, "unknown-field"),
        (13, "check-paper", "unknown-target"),
        (15, "clear-jam", "missing-estimate"),
        (23, "call-vendor", "unknown-level"),
        (27, "forgotten", "unreachable"),
        (30, "forgotten", "unknown-field"),
    ]
    # lint_source returns them ordered by line.
    _, direct = lint_source((BROKEN / "several-defects.yaml").read_text(), "s.yaml")
    direct = [p for p in direct if p.is_error]
    assert [p.line for p in direct] == [3, 5, 13, 15, 23, 27, 30]


# --- lint_files over folders and paths ------------------------------------------------------


def test_lint_files_on_a_folder_finds_yaml_and_yml_recursively(tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "a.yaml").write_text(VALID)
    bad_status = VALID.replace("key: printer-jam", "key: printer-jam-2").replace(
        "status: draft", "status: live"
    )
    (tmp_path / "nested" / "b.yml").write_text(bad_status)
    (tmp_path / "notes.txt").write_text("not: [a runbook")
    report = lint_files([tmp_path])
    assert [path for path, _ in report.runbooks] == [
        str(tmp_path / "a.yaml"),
        str(tmp_path / "nested" / "b.yml"),
    ]
    assert [(p.file, p.line, p.code) for p in report.errors] == [
        (str(tmp_path / "nested" / "b.yml"), 4, "unknown-status")
    ]
    assert not report.ok


def test_lint_files_on_a_clean_folder_is_ok(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID)
    report = lint_files([tmp_path])
    assert report.ok
    assert report.errors == []
    assert [rb.key for _, rb in report.runbooks] == ["printer-jam"]


def test_lint_files_on_the_broken_folder_reports_every_fixture() -> None:
    fixtures = sorted(BROKEN.glob("*.yaml"))
    report = lint_files([BROKEN])
    files_with_problems = {p.file for p in report.errors}
    clean = {str(BROKEN / "duplicate-key-a.yaml")}
    assert files_with_problems == {str(f) for f in fixtures} - clean
    unparsable = {"yaml-syntax.yaml", "not-a-mapping.yaml"}
    assert sorted(path for path, _ in report.runbooks) == sorted(
        str(f) for f in fixtures if f.name not in unparsable
    )
    duplicates = [p for p in report.problems if p.code == "duplicate-key"]
    assert [(Path(p.file).name, p.line) for p in duplicates] == [("duplicate-key-b.yaml", 5)]


def test_lint_files_on_a_missing_path_reports_a_problem(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    good = tmp_path / "good.yaml"
    good.write_text(VALID)
    report = lint_files([missing, good])
    problem = only(report.problems)
    assert (problem.file, problem.line, problem.step, problem.code) == (
        str(missing),
        1,
        None,
        "unreadable",
    )
    # The readable file after it is still linted.
    assert [path for path, _ in report.runbooks] == [str(good)]


def test_lint_files_on_a_non_utf8_file_reports_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(VALID.replace("Printer works.", "Imprimante répare.").encode("latin-1"))
    report = lint_files([path])
    assert [(p.file, p.code) for p in report.problems] == [(str(path), "unreadable")]
    assert report.runbooks == []


@pytest.mark.parametrize("field", ["key", "title", "category", "status"])
def test_missing_required_field_is_reported(field: str) -> None:
    text = "\n".join(x for x in VALID.splitlines() if not x.startswith(f"{field}:")) + "\n"
    _, problems = lint_source(text, "x.yaml")
    problem = only(problems)
    assert (problem.line, problem.code) == (1, "missing-field")
    assert f"'{field}'" in problem.message
