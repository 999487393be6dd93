"""Property tests on random decision graphs: what lint says must match what the engine can do."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from franchise.errors import InvalidInput
from franchise.runbooks import engine, graph
from franchise.runbooks.definition import Estimate, Runbook, Step
from franchise.runbooks.lint import LintContext, check_runbook, lint_source

GRAPH_CODES = {"unreachable", "no-exit", "unknown-target", "no-options"}
LABELS = ["Yes", "No", "Retry", "Still failing", "yes please", "Done"]
PROPS = settings(max_examples=200, deadline=None)


@dataclass(frozen=True)
class Spec:
    """A random runbook as plain data: kinds and (label, target) pairs per step."""

    kinds: tuple[str, ...]
    options: tuple[tuple[tuple[str, str], ...], ...]

    @property
    def ids(self) -> list[str]:
        return [f"s{i}" for i in range(len(self.kinds))]


@st.composite
def specs(draw: st.DrawFn, *, allow_missing_targets: bool = True) -> Spec:
    n = draw(st.integers(min_value=1, max_value=10))
    ids = [f"s{i}" for i in range(n)]
    targets = ids + (["ghost"] if allow_missing_targets else [])
    # Terminal steps are rarer so that loops and dead ends are common.
    kind = st.sampled_from(["check", "check", "action", "action", "resolve", "escalate"])
    kinds = tuple(draw(kind) for _ in range(n))
    options = []
    for k in kinds:
        if k in ("resolve", "escalate"):
            options.append(())
            continue
        labels = draw(st.lists(st.sampled_from(LABELS), max_size=3, unique=True))
        options.append(tuple((label, draw(st.sampled_from(targets))) for label in labels))
    return Spec(kinds, tuple(options))


@st.composite
def clean_specs(draw: st.DrawFn) -> Spec:
    """Graphs with no graph problem: every step has a parent, every question a later child."""
    n = draw(st.integers(min_value=1, max_value=10))
    terminal = st.sampled_from(["resolve", "escalate"])
    if n == 1:
        return Spec((draw(terminal),), ((),))
    middle = st.sampled_from(["check", "action", "resolve", "escalate"])
    kinds = [draw(st.sampled_from(["check", "action"]))]
    kinds += [draw(middle) for _ in range(n - 2)]
    kinds.append(draw(terminal))
    options: list[dict[str, str]] = [{} for _ in range(n)]
    for i in range(1, n):
        parents = [j for j in range(i) if kinds[j] in ("check", "action")]
        options[draw(st.sampled_from(parents))][f"Go s{i}"] = f"s{i}"
    for i, kind in enumerate(kinds):
        if kind in ("check", "action"):
            if not options[i]:
                options[i][f"Go s{n - 1}"] = f"s{n - 1}"
            # Extra answers anywhere, including back to earlier steps (retry loops).
            extra = draw(st.lists(st.sampled_from(LABELS), max_size=2, unique=True))
            for label in extra:
                options[i][label] = draw(st.sampled_from([f"s{j}" for j in range(n)]))
    return Spec(tuple(kinds), tuple(tuple(o.items()) for o in options))


def build(spec: Spec) -> Runbook:
    steps = {}
    for sid, kind, opts in zip(spec.ids, spec.kinds, spec.options, strict=True):
        steps[sid] = Step(
            id=sid,
            kind=kind,
            text=f"Step {sid}",
            options=dict(opts),
            to="L2" if kind == "escalate" else None,
            estimate=Estimate(5, 0.0, "low") if kind == "action" else None,
        )
    return Runbook(
        key="random",
        title="Random",
        category="printer",
        status="draft",
        start="s0",
        steps=steps,
    )


def lint(runbook: Runbook) -> dict[str, set[str]]:
    """Step ids per graph problem code."""
    found: dict[str, set[str]] = {code: set() for code in GRAPH_CODES}
    for problem in check_runbook(runbook, "random.yaml", LintContext()):
        if problem.code in found:
            assert problem.step is not None
            found[problem.code].add(problem.step)
    return found


def explore(state: engine.RunState) -> dict[str, int]:
    """Every step the engine can be at from `state`, with the fewest answers to get there."""
    distance = {state.current: 0}
    queue = deque([state])
    while queue:
        current = queue.popleft()
        if current.finished:
            continue
        for label in current.step.options:
            try:
                nxt = engine.answer(current, label)
            except InvalidInput:
                continue  # an option to a missing step
            if nxt.current not in distance:
                distance[nxt.current] = distance[current.current] + 1
                queue.append(nxt)
    return distance


def can_end_from(runbook: Runbook, step_id: str) -> bool:
    """Some sequence of engine answers from `step_id` ends the run."""
    reached = explore(engine.RunState(runbook, step_id))
    return any(runbook.steps[s].is_terminal for s in reached)


@PROPS
@given(specs())
def test_without_graph_problems_every_reachable_step_can_end_the_run(spec: Spec) -> None:
    runbook = build(spec)
    found = lint(runbook)
    if any(found.values()):
        return
    visited = explore(engine.start(runbook))
    assert set(visited) == graph.reachable(runbook) == set(runbook.steps)
    for step_id in visited:
        assert can_end_from(runbook, step_id), step_id


@PROPS
@given(st.data())
def test_well_formed_graphs_lint_clean_and_can_end_from_every_step(data: st.DataObject) -> None:
    # The property above on graphs built to be correct, so it cannot pass vacuously.
    spec = data.draw(clean_specs())
    runbook = build(spec)
    assert not any(lint(runbook).values())
    # Built as format 1, so the format 2 rules (no-fallback) may only warn.
    assert [p for p in check_runbook(runbook, "random.yaml", LintContext()) if p.is_error] == []
    visited = explore(engine.start(runbook))
    assert set(visited) == set(runbook.steps)
    for step_id in visited:
        assert can_end_from(runbook, step_id), step_id


@PROPS
@given(specs())
def test_steps_reported_unreachable_are_never_visited(spec: Spec) -> None:
    runbook = build(spec)
    unreachable = lint(runbook)["unreachable"]
    visited = set(explore(engine.start(runbook)))
    assert not unreachable & visited
    # And the converse: every step the engine cannot reach is reported.
    assert unreachable == set(runbook.steps) - visited


@PROPS
@given(specs())
def test_steps_reported_no_exit_are_visited_but_can_never_end_the_run(spec: Spec) -> None:
    runbook = build(spec)
    found = lint(runbook)
    visited = set(explore(engine.start(runbook)))
    for step_id in found["no-exit"]:
        assert step_id in visited
        assert not can_end_from(runbook, step_id)
    # The converse: a visited step that cannot end the run is reported one way or another.
    for step_id in visited:
        if not can_end_from(runbook, step_id):
            assert step_id in found["no-exit"] | found["no-options"], step_id


@PROPS
@given(specs())
def test_steps_reported_no_options_are_dead_ends_for_the_engine(spec: Spec) -> None:
    runbook = build(spec)
    for step_id in lint(runbook)["no-options"]:
        state = engine.RunState(runbook, step_id)
        assert not state.finished
        assert explore(state) == {step_id: 0}


@PROPS
@given(specs())
def test_unknown_targets_are_exactly_the_options_the_engine_refuses(spec: Spec) -> None:
    runbook = build(spec)
    reported = lint(runbook)["unknown-target"]
    refused = set()
    for step_id, step in runbook.steps.items():
        for label in step.options:
            try:
                engine.answer(engine.RunState(runbook, step_id), label)
            except InvalidInput:
                refused.add(step_id)
    assert reported == refused


@PROPS
@given(specs())
def test_graph_sets_agree_with_engine_exploration(spec: Spec) -> None:
    runbook = build(spec)
    visited = set(explore(engine.start(runbook)))
    assert graph.reachable(runbook) == visited
    finishing = {s for s in runbook.steps if can_end_from(runbook, s)}
    assert graph.can_finish(runbook) == finishing


def to_yaml(spec: Spec) -> tuple[str, dict[str, int], dict[tuple[str, str], int]]:
    """Render a spec as YAML by hand; also return the 1-based line of each step and option."""
    lines = [
        "key: random",
        "title: Random",
        "category: printer",
        "status: draft",
        "start: s0",
        "steps:",
    ]
    step_line: dict[str, int] = {}
    option_line: dict[tuple[str, str], int] = {}
    for sid, kind, opts in zip(spec.ids, spec.kinds, spec.options, strict=True):
        lines.append(f"  {sid}:")
        step_line[sid] = len(lines)
        lines.append(f"    kind: {kind}")
        lines.append(f"    text: {json.dumps('Step ' + sid)}")
        if kind == "escalate":
            lines.append("    to: L2")
        if kind == "action":
            lines.append("    estimate: {minutes: 5, cost: 0, impact: low}")
        if opts:
            lines.append("    options:")
            for label, target in opts:
                lines.append(f"      {json.dumps(label)}: {target}")
                option_line[(sid, label)] = len(lines)
    return "\n".join(lines) + "\n", step_line, option_line


@PROPS
@given(specs())
def test_yaml_round_trip_gives_the_same_graph_and_true_line_numbers(spec: Spec) -> None:
    text, step_line, option_line = to_yaml(spec)
    parsed, problems = lint_source(text, "random.yaml")
    assert parsed is not None
    expected = build(spec)
    assert {s: dict(p.options) for s, p in parsed.steps.items()} == {
        s: dict(p.options) for s, p in expected.steps.items()
    }
    assert {s: p.line for s, p in parsed.steps.items()} == step_line
    for (sid, label), line in option_line.items():
        assert parsed.steps[sid].option_lines[label] == line
    # Parsing adds no problems of its own, and the graph problems match the dataclass ones.
    from_yaml = {(p.code, p.step) for p in problems}
    from_dataclass = {
        (p.code, p.step) for p in check_runbook(expected, "random.yaml", LintContext())
    }
    assert from_yaml == from_dataclass
    for problem in problems:
        if problem.code == "unknown-target":
            lines = {line for (sid, _), line in option_line.items() if sid == problem.step}
            assert problem.line in lines
        elif problem.step is not None:
            assert problem.line == step_line[problem.step]


def _reaches(runbook: Runbook, source: str, target: str) -> bool:
    seen, queue = {source}, deque([source])
    while queue:
        current = queue.popleft()
        if current == target:
            return True
        for nxt in graph.drawn_targets(runbook, current):
            if nxt in runbook.steps and nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return False


@PROPS
@given(specs())
def test_longest_path_depths_point_every_arrow_down_except_loops(spec: Spec) -> None:
    runbook = build(spec)
    depth = graph.longest_path_depths(runbook)
    order = graph.discovery_order(runbook)
    assert set(depth) == set(runbook.steps)
    assert set(order) == graph.reachable(runbook) | (
        {runbook.start} if runbook.start in runbook.steps else set()
    )
    assert depth[runbook.start] == 0
    for step_id in order:
        for target in graph.drawn_targets(runbook, step_id):
            if target in runbook.steps and depth[target] <= depth[step_id]:
                # Only an arrow that closes a loop may point up or sideways.
                assert _reaches(runbook, target, step_id), (step_id, target)
    unreached = set(runbook.steps) - set(order)
    if unreached:
        assert all(depth[s] > depth[r] for s in unreached for r in order)
