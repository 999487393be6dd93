"""Decision-graph analysis on small hand-drawn runbooks: depths and order for the chart,
and where a denied approval leads."""

from __future__ import annotations

from franchise.runbooks import graph
from franchise.runbooks.definition import Runbook, Step


def runbook(start: str, **steps: dict[str, str]) -> Runbook:
    """A check step per entry (its options: label -> target); `done` resolves."""
    built = {sid: Step(sid, "check", sid, options=options) for sid, options in steps.items()}
    built["done"] = Step("done", "resolve", "Fixed.")
    return Runbook("k", "K", "other", "draft", start, built)


def test_a_step_is_as_deep_as_its_longest_path_from_the_start() -> None:
    # a -> z -> t and a -> x -> y -> t: t is three deep although z (one deep) is drawn
    # after y; u is reached by nothing, so it gets one more than the deepest step (done, 4).
    rb = runbook(
        "a",
        a={"1": "z", "2": "x"},
        z={"go": "t"},
        x={"go": "y"},
        y={"go": "t"},
        t={"go": "done"},
        u={"go": "done"},
    )
    assert graph.longest_path_depths(rb) == {
        "a": 0,
        "x": 1,
        "z": 1,
        "y": 2,
        "t": 3,
        "done": 4,
        "u": 5,
    }


def test_a_loop_arrow_does_not_make_a_step_deeper() -> None:
    rb = runbook("a", a={"go": "b"}, b={"again": "a", "ok": "done"})
    assert graph.longest_path_depths(rb) == {"a": 0, "b": 1, "done": 2}


def test_a_loop_back_to_a_step_after_the_start_does_not_make_it_deeper() -> None:
    rb = runbook("a", a={"go": "b"}, b={"ok": "c"}, c={"again": "b", "fixed": "done"})
    assert graph.longest_path_depths(rb) == {"a": 0, "b": 1, "c": 2, "done": 3}


def test_without_a_start_step_every_step_is_at_depth_zero_and_none_is_discovered() -> None:
    rb = runbook("missing", a={"go": "done"})
    assert graph.longest_path_depths(rb) == {"a": 0, "done": 0}
    assert graph.discovery_order(rb) == {}


def test_discovery_order_is_breadth_first_from_the_start() -> None:
    rb = runbook("a", a={"1": "b", "2": "c"}, b={"go": "d"}, c={"go": "done"}, d={"go": "c"})
    assert graph.discovery_order(rb) == {"a": 0, "b": 1, "c": 2, "d": 3, "done": 4}


def test_a_denied_approval_leads_on_like_an_option() -> None:
    rb = runbook("a", a={"go": "b"}, b={"ok": "done"})
    denied = Runbook(
        rb.key,
        rb.title,
        rb.category,
        rb.status,
        rb.start,
        {**rb.steps, "a": Step("a", "action", "Change it", options={"go": "b"}, on_denied="done")},
    )
    assert graph.successors(denied, "a") == ["b", "done"]
    assert graph.successors(rb, "a") == ["b"]
