"""Runbooks written in format 1 keep importing: the format 2 rules only warn about them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from franchise.runbooks import service as runbooks
from franchise.runbooks.lint import lint_files

V1 = """\
key: printer-offline
title: Printer offline
category: printer
status: validated
start: power
steps:
  power:
    kind: check
    text: Is the printer powered on with a ready light?
    options: {"Yes": queue, "No": power-on}
  power-on:
    kind: action
    text: Ask the user to switch it on.
    estimate: {minutes: 5, cost: 0, impact: none}
    options: {"On now": queue}
  queue:
    kind: check
    text: Does a test page print?
    options: {"Yes": done, "No": vendor}
  done: {kind: resolve, text: Printing again.}
  vendor: {kind: escalate, to: owner, text: Call the vendor.}
"""


def test_a_format_1_file_imports_with_warnings_only(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "printer-offline.yaml"
    path.write_text(V1)
    report = lint_files([path])
    assert report.ok
    assert sorted({p.code for p in report.problems}) == ["no-fallback", "owner-not-emergency"]
    assert all(p.severity == "warning" for p in report.problems)
    (result,) = runbooks.import_runbooks(session, [path])
    assert (result.action, result.revision) == ("created", 1)
    parsed = runbooks.definition(session, result.runbook)
    # Format 1 keeps its meaning: no fallback answer is added, the done list is the runbook's.
    assert parsed.format == 1
    assert list(parsed.steps["power"].options) == ["Yes", "No"]
    assert parsed.done_items("done") == ()


def test_the_same_file_in_format_2_is_refused(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "printer-offline.yaml"
    path.write_text("format: 2\n" + V1)
    report = lint_files([path])
    assert not report.ok
    assert {p.code for p in report.errors} == {"no-fallback", "owner-not-emergency"}
