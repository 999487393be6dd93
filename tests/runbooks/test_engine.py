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
    assert [p for p in problems if p.is_error] == []
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
    state = walk(runbook, "Yes", "done", "yes, GIVE UP")
    assert state.current == "escalate-l2"
    assert state.path[-1] == PathEntry("recheck", "Yes, give up")


def test_answer_is_not_matched_by_prefix(runbook: Runbook) -> None:
    with pytest.raises(InvalidInput):
        walk(runbook, "Yes", "Done", "Yes")


def test_wrong_answer_raises_and_names_the_valid_options(runbook: Runbook) -> None:
    state = engine.start(runbook)
    with pytest.raises(InvalidInput) as caught:
        engine.answer(state, "Maybe")
    message = caught.value.message
    assert "'Maybe'" in message
    assert "'check-space'" in message
    for label in ("'Yes'", "'No'", "'Cannot tell'"):
        assert label in message


def test_answering_after_the_end_raises(runbook: Runbook) -> None:
    state = walk(runbook, "No")
    assert state.finished
    with pytest.raises(InvalidInput, match="already ended"):
        engine.answer(state, "Yes")


def test_answering_after_an_escalation_raises(runbook: Runbook) -> None:
    state = walk(runbook, "Cannot tell")
    assert state.outcome == "escalate"
    with pytest.raises(InvalidInput):
        engine.answer(state, "No")


def test_answer_leading_to_a_missing_step_raises(runbook: Runbook) -> None:
    check = runbook.steps["check-space"]
    bad_step = dataclasses.replace(check, options={**check.options, "Unsure": "ghost"})
    broken = dataclasses.replace(runbook, steps={**runbook.steps, "check-space": bad_step})
    with pytest.raises(InvalidInput, match="ghost"):
        engine.answer(engine.start(broken), "unsure")


def test_back_undoes_the_last_answer(runbook: Runbook) -> None:
    state = walk(runbook, "Yes", "Done")
    assert state.current == "recheck"
    previous = engine.back(state)
    assert previous.current == "clean-temp"
    assert previous.path == (PathEntry("check-space", "Yes"),)
    again = engine.back(previous)
    assert again.current == "check-space"
    assert again.path == ()


def test_back_from_a_finished_run_reopens_the_last_question(runbook: Runbook) -> None:
    state = engine.back(walk(runbook, "No"))
    assert state.current == "check-space"
    assert not state.finished
    assert engine.answer(state, "Cannot tell").outcome == "escalate"


def test_back_at_the_first_step_raises(runbook: Runbook) -> None:
    with pytest.raises(InvalidInput, match="first step"):
        engine.back(engine.start(runbook))


def test_replay_follows_recorded_answers(runbook: Runbook) -> None:
    recorded = [("check-space", "Yes"), ("clean-temp", "Done"), ("recheck", "no")]
    state = engine.replay(runbook, recorded)
    assert state.outcome == "resolved"
    assert [(e.step, e.answer) for e in state.path] == [
        ("check-space", "Yes"),
        ("clean-temp", "Done"),
        ("recheck", "No"),
    ]


def test_replay_with_no_answers_is_the_start(runbook: Runbook) -> None:
    assert engine.replay(runbook, []) == engine.start(runbook)


def test_replay_with_a_mismatched_step_raises(runbook: Runbook) -> None:
    recorded = [("check-space", "Yes"), ("recheck", "No")]
    with pytest.raises(InvalidInput) as caught:
        engine.replay(runbook, recorded)
    assert "'recheck'" in caught.value.message
    assert "'clean-temp'" in caught.value.message


def test_replay_with_a_wrong_answer_raises(runbook: Runbook) -> None:
    with pytest.raises(InvalidInput, match="Perhaps"):
        engine.replay(runbook, [("check-space", "Perhaps")])


def test_follow_answers_each_step_from_its_queue(runbook: Runbook) -> None:
    # Dict order differs from the order the steps are met: order between steps does not matter.
    state = engine.follow(
        runbook, {"recheck": ["No"], "clean-temp": ["Done"], "check-space": ["Yes"]}
    )
    assert state.outcome == "resolved"
    assert [e.step for e in state.path] == ["check-space", "clean-temp", "recheck"]


def test_follow_takes_replies_in_order_through_a_retry_loop(runbook: Runbook) -> None:
    answers = {
        "check-space": ["Yes"],
        "clean-temp": ["Done", "Done"],
        "recheck": ["Yes, try again", "No"],
    }
    state = engine.follow(runbook, answers)
    assert state.outcome == "resolved"
    assert [(e.step, e.answer) for e in state.path] == [
        ("check-space", "Yes"),
        ("clean-temp", "Done"),
        ("recheck", "Yes, try again"),
        ("clean-temp", "Done"),
        ("recheck", "No"),
    ]
    # The caller's lists are not consumed.
    assert answers["recheck"] == ["Yes, try again", "No"]


def test_follow_stops_where_a_reply_is_missing(runbook: Runbook) -> None:
    state = engine.follow(
        runbook, {"check-space": ["Yes"], "clean-temp": ["Done"], "recheck": ["Yes, try again"]}
    )
    # Back at clean-temp a second time with its queue empty.
    assert state.current == "clean-temp"
    assert state.outcome == "incomplete"
    assert len(state.path) == 3


def test_follow_with_no_answers_stays_at_the_start(runbook: Runbook) -> None:
    assert engine.follow(runbook, {}) == engine.start(runbook)


def test_follow_ignores_leftover_replies_once_finished(runbook: Runbook) -> None:
    state = engine.follow(runbook, {"check-space": ["No", "Yes"], "clean-temp": ["Done"]})
    assert state.current == "done"
    assert state.path == (PathEntry("check-space", "No"),)


def test_follow_with_an_unknown_step_name_raises(runbook: Runbook) -> None:
    with pytest.raises(InvalidInput) as caught:
        engine.follow(runbook, {"check-space": ["Yes"], "recheck-typo": ["No"], "zzz": []})
    assert "'recheck-typo'" in caught.value.message
    assert "'zzz'" in caught.value.message
    assert "disk-full" in caught.value.message


def test_follow_with_a_wrong_reply_raises(runbook: Runbook) -> None:
    with pytest.raises(InvalidInput, match="Nope"):
        engine.follow(runbook, {"check-space": ["Nope"]})


def test_follow_refuses_an_endless_loop(runbook: Runbook) -> None:
    answers = {
        "check-space": ["Yes"],
        "clean-temp": ["Done"] * 100,
        "recheck": ["Yes, try again"] * 100,
    }
    with pytest.raises(InvalidInput, match="loop"):
        engine.follow(runbook, answers, max_steps=20)


def test_to_dict_of_a_run_in_progress(runbook: Runbook) -> None:
    state = walk(runbook, "Yes")
    assert state.to_dict() == {
        "runbook": "disk-full",
        "outcome": "incomplete",
        "level": None,
        "emergency": False,
        "path": [{"step": "check-space", "answer": "Yes"}],
        "next_step": "clean-temp",
        "final_step": None,
        "next": {
            "step": "clean-temp",
            "kind": "action",
            "text": "Clear the temp folders.",
            "where": None,
            "options": ["Done"],
            "fact": None,
            "blocked_by": None,
            "edge_cases": [],
        },
        "done_when": [],
    }


def test_to_dict_of_a_resolved_run(runbook: Runbook) -> None:
    state = walk(runbook, "no")
    assert state.to_dict() == {
        "runbook": "disk-full",
        "outcome": "resolved",
        "level": None,
        "emergency": False,
        "path": [{"step": "check-space", "answer": "No"}],
        "next_step": None,
        "final_step": "done",
        "next": None,
        "done_when": [],
    }


def test_to_dict_of_an_escalated_run(runbook: Runbook) -> None:
    state = walk(runbook, "Yes", "Done", "Yes, give up")
    assert state.to_dict() == {
        "runbook": "disk-full",
        "outcome": "escalate",
        "level": "L2",
        "emergency": False,
        "path": [
            {"step": "check-space", "answer": "Yes"},
            {"step": "clean-temp", "answer": "Done"},
            {"step": "recheck", "answer": "Yes, give up"},
        ],
        "next_step": None,
        "final_step": "escalate-l2",
        "next": None,
        "done_when": [],
    }


def test_to_dict_at_the_start(runbook: Runbook) -> None:
    data = engine.start(runbook).to_dict()
    assert data["outcome"] == "incomplete"
    assert data["path"] == []
    assert data["next_step"] == "check-space"


# --- found by `make mutate` ------------------------------------------------------------


def test_options_left_on_an_ending_lead_nowhere(runbook: Runbook) -> None:
    from franchise.runbooks.graph import reachable, successors

    done = dataclasses.replace(runbook.steps["done"], options={"Again": "clean-temp"})
    without_clean = {k: v for k, v in runbook.steps.items()}
    without_clean["done"] = done
    # clean-temp is only reachable through check-space's "Yes"; point that at the ending.
    check = runbook.steps["check-space"]
    without_clean["check-space"] = dataclasses.replace(
        check, options={**check.options, "Yes": "done"}
    )
    changed = dataclasses.replace(runbook, steps=without_clean)
    assert successors(changed, "done") == []
    assert successors(changed, "no-such-step") == []
    assert "clean-temp" not in reachable(changed)


def test_an_ending_has_no_answers_to_choose_from(runbook: Runbook) -> None:
    ended = walk(runbook, "No")
    with pytest.raises(InvalidInput) as error:
        engine.resolve_option(ended.step, "Yes")
    assert error.value.message == (
        "'Yes' is not an answer to step 'done'; choose one of none (this step ends the run)"
    )
    with pytest.raises(InvalidInput) as choose:
        engine.resolve_option(engine.start(runbook).step, "Maybe")
    assert choose.value.message == (
        "'Maybe' is not an answer to step 'check-space'; choose one of 'Yes', 'No', 'Cannot tell'"
    )


def test_back_at_the_start_says_there_is_nothing_to_go_back_to(runbook: Runbook) -> None:
    with pytest.raises(InvalidInput) as error:
        engine.back(engine.start(runbook))
    assert error.value.message == "the run is at its first step; there is nothing to go back to"


def test_follow_names_every_unknown_step(runbook: Runbook) -> None:
    with pytest.raises(InvalidInput) as error:
        engine.follow(runbook, {"zeta": ["x"], "alpha": ["y"]})
    assert error.value.message == "no step named 'alpha', 'zeta' in 'disk-full'"


def test_follow_gives_up_on_a_loop_after_500_steps(runbook: Runbook) -> None:
    # check-space -> clean-temp -> recheck -> clean-temp ...: 1 + 2 * 250 = 501 answers.
    answers = {
        "check-space": ["Yes"],
        "clean-temp": ["Done"] * 300,
        "recheck": ["Yes, try again"] * 300,
    }
    with pytest.raises(InvalidInput, match="in a loop for more than 500 steps"):
        engine.follow(runbook, answers)
    # 1 + 249 + 249 = 499 answers end the run in time.
    answers = {
        "check-space": ["Yes"],
        "clean-temp": ["Done"] * 249,
        "recheck": ["Yes, try again"] * 248 + ["Yes, give up"],
    }
    assert engine.follow(runbook, answers).current == "escalate-l2"


def test_follow_accepts_exactly_max_steps_answers(runbook: Runbook) -> None:
    answers = {"check-space": ["Yes"], "clean-temp": ["Done"], "recheck": ["No"]}
    # Three answers end the run at 'done': three is the limit, not a loop past it.
    assert engine.follow(runbook, answers, max_steps=3).current == "done"
    with pytest.raises(InvalidInput, match="more than 2 steps"):
        engine.follow(runbook, answers, max_steps=2)


def test_follow_out_of_replies_after_exactly_max_steps_is_not_a_loop(runbook: Runbook) -> None:
    # Unfinished, with no reply left for the step it reached: stopped, not looping.
    answers = {"check-space": ["Yes"], "clean-temp": ["Done"], "recheck": ["Yes, try again"]}
    state = engine.follow(runbook, answers, max_steps=3)
    assert (state.current, len(state.path), state.outcome) == ("clean-temp", 3, "incomplete")


def test_the_next_step_lists_its_edge_cases_numbered_across_the_runbook(runbook: Runbook) -> None:
    from franchise.runbooks.definition import EdgeCase

    cases = (
        EdgeCase("Temp is locked", "Reboot first", steps=("clean-temp",), switch="disk-cleanup"),
        EdgeCase("Recheck hangs", "Wait a minute", steps=("recheck",)),
        EdgeCase("Server disk", "Ask L2", escalate="L2"),
    )
    with_cases = dataclasses.replace(runbook, edge_cases=cases)
    shown = engine.next_dict(with_cases, with_cases.step("clean-temp"))["edge_cases"]
    assert shown == [
        {
            "number": 1,
            "when": "Temp is locked",
            "do": "Reboot first",
            "switch": "disk-cleanup",
            "escalate": None,
        },
        {"number": 3, "when": "Server disk", "do": "Ask L2", "switch": None, "escalate": "L2"},
    ]


def test_a_denied_approval_follows_on_denied_and_other_answers_their_option(
    runbook: Runbook,
) -> None:
    steps = dict(runbook.steps)
    steps["clean-temp"] = dataclasses.replace(steps["clean-temp"], on_denied="escalate-l2")
    guarded = dataclasses.replace(runbook, steps=steps)
    denied = walk(guarded, "Yes", engine.DENIED)
    assert (denied.current, denied.path[-1]) == (
        "escalate-l2",
        PathEntry("clean-temp", engine.DENIED),
    )
    assert walk(guarded, "Yes", "Done").current == "recheck"
    with pytest.raises(InvalidInput):
        walk(runbook, "Yes", engine.DENIED)  # no on_denied: a denial is no answer
