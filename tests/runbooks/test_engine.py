"""The run walker: start, answer, back, replay and follow over a parsed runbook."""

from __future__ import annotations

import dataclasses

import pytest

from franchise.errors import InvalidInput
from franchise.runbooks import engine
from franchise.runbooks.definition import Runbook
from franchise.runbooks.engine import PathEntry
from franchise.runbooks.lint import lint_source

SOURCE = """\
key: disk-full
title: Disk full
category: disk-space
status: draft
start: check-space
steps:
  check-space:
    kind: check
    text: Is free space under 10%?
    options:
      "Yes": clean-temp
      "No": done
      "Cannot tell": escalate-l2
  clean-temp:
    kind: action
    text: Clear the temp folders.
    estimate: {minutes: 10, cost: 0, impact: none}
    options:
      Done: recheck
  recheck:
    kind: check
    text: Is free space still under 10%?
    options:
      "Yes, try again": clean-temp
      "Yes, give up": escalate-l2
      "No": done
  done:
    kind: resolve
    text: Space recovered.
  escalate-l2:
    kind: escalate
    to: L2
    text: The disk needs to grow.
"""


@pytest.fixture
def runbook() -> Runbook:
    parsed, problems = lint_source(SOURCE, "disk-full.yaml")
    assert problems == []
    assert parsed is not None
    return parsed


def walk(runbook: Runbook, *answers: str) -> engine.RunState:
    state = engine.start(runbook)
    for reply in answers:
        state = engine.answer(state, reply)
    return state


def test_start_waits_at_the_start_step(runbook: Runbook) -> None:
    state = engine.start(runbook)
    assert state.current == "check-space"
    assert state.step.id == "check-space"
    assert state.path == ()
    assert not state.finished
    assert state.outcome == "incomplete"
    assert state.level is None


def test_start_refuses_a_runbook_without_its_start_step(runbook: Runbook) -> None:
    broken = dataclasses.replace(runbook, start="nowhere")
    with pytest.raises(InvalidInput, match="nowhere"):
        engine.start(broken)


def test_answers_lead_to_resolved_with_the_path_taken(runbook: Runbook) -> None:
    state = walk(runbook, "Yes", "Done", "No")
    assert state.current == "done"
    assert state.finished
    assert state.outcome == "resolved"
    assert state.level is None
    assert state.path == (
        PathEntry("check-space", "Yes"),
        PathEntry("clean-temp", "Done"),
        PathEntry("recheck", "No"),
    )


def test_escalate_outcome_names_the_level(runbook: Runbook) -> None:
    state = walk(runbook, "Yes", "Done", "Yes, give up")
    assert state.finished
    assert state.outcome == "escalate"
    assert state.level == "L2"


def test_answer_does_not_change_the_previous_state(runbook: Runbook) -> None:
    first = engine.start(runbook)
    second = engine.answer(first, "Yes")
    assert first.current == "check-space"
    assert first.path == ()
    assert second.current == "clean-temp"


@pytest.mark.parametrize("reply", ["yes", "YES", "  Yes  ", " yEs"])
def test_answers_match_without_regard_to_case_or_spaces(runbook: Runbook, reply: str) -> None:
    state = engine.answer(engine.start(runbook), reply)
    assert state.current == "clean-temp"
    # The path records the option label as written in the runbook.
    assert state.path == (PathEntry("check-space", "Yes"),)


def test_multi_word_answer_matches_case_insensitively(runbook: Runbook) -> None:
    state = walk(runbook, "Yes", "done", "CANNOT TELL".lower().replace("cannot", "yes, GIVE"))
    # "yes, GIVE tell" is not an option: it must be refused, not prefix-matched.
    assert state is None if False else True  # placeholder removed below
