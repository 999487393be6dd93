"""Findings of the security probe, each reproduced, each now refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from franchise.bootstrap import initialise
from franchise.errors import InvalidInput
from franchise.runbooks import service as runbooks
from franchise.runbooks.lint import lint_source
from franchise.runbooks.models import Runbook

RUNBOOK = """\
key: {key}
title: Printer offline
category: printer
status: validated
start: power
steps:
  power:
    kind: check
    text: Is the printer on?
    options: {{"Yes": done, "No or not sure": vendor}}
  done: {{kind: resolve, text: Printing.}}
  vendor: {{kind: escalate, to: L2, text: Call the vendor.}}
"""


@pytest.mark.parametrize(("length", "ok"), [(63, True), (64, True), (65, False), (260, False)])
def test_runbook_keys_are_at_most_64_characters(length: int, ok: bool) -> None:
    key = ("a" * (length - 2)) + "-b"
    _, problems = lint_source(RUNBOOK.format(key=key), "long.yaml")
    bad = [p for p in problems if p.code == "bad-key"]
    assert (bad == []) is ok
    if not ok:
        assert f"key is {length} characters; keep it to 64 or fewer" in bad[0].message


def test_export_is_all_or_nothing(session: Session, tmp_path: Path) -> None:
    initialise(session)
    # A database from before the limit may hold a key no folder takes as a file name.
    row = runbooks.get_runbook(session, "printer-problem")
    row.key = "no-such-folder/printer-problem"
    session.flush()
    target = tmp_path / "out"
    with pytest.raises(InvalidInput, match="nothing was written"):
        runbooks.export_runbooks(session, target)
    assert list(target.iterdir()) == []
    row.key = "printer-problem"
    session.flush()
    written = runbooks.export_runbooks(session, target)
    assert len(written) == session.query(Runbook).count()
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in written)
