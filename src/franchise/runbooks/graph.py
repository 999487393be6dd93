"""Decision-graph analysis: which steps can be reached, and which can reach an outcome."""

from __future__ import annotations

from collections import deque

from franchise.runbooks.definition import Runbook


def successors(runbook: Runbook, step_id: str) -> list[str]:
    step = runbook.steps.get(step_id)
    # A run ends at resolve/escalate, so options left on such a step lead nowhere.
    if step is None or step.is_terminal:
        return []
    targets = [*step.options.values(), *([step.on_denied] if step.on_denied else [])]
    return [t for t in targets if t in runbook.steps]


def reachable(runbook: Runbook) -> set[str]:
    """Steps reachable from the start by following options that point at real steps."""
    if runbook.start not in runbook.steps:
        return set()
    seen = {runbook.start}
    queue = deque([runbook.start])
    while queue:
        for nxt in successors(runbook, queue.popleft()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def can_finish(runbook: Runbook) -> set[str]:
    """Steps from which some sequence of answers reaches a resolve or escalate step."""
    predecessors: dict[str, list[str]] = {sid: [] for sid in runbook.steps}
    for sid in runbook.steps:
        for nxt in successors(runbook, sid):
            predecessors[nxt].append(sid)
    done = {sid for sid, step in runbook.steps.items() if step.is_terminal}
    queue = deque(done)
    while queue:
        for prev in predecessors[queue.popleft()]:
            if prev not in done:
                done.add(prev)
                queue.append(prev)
    return done


# --- the order the flowchart draws steps in ---------------------------------------------


def drawn_targets(runbook: Runbook, step_id: str) -> list[str]:
    """Every option's target, also on resolve/escalate steps: lint flags those options, and
    the chart still draws them so the author sees what they wrote."""
    return list(runbook.steps[step_id].options.values())


def longest_path_depths(runbook: Runbook) -> dict[str, int]:
    """Depth of every step: the longest path to it from the start, leaving out the arrows
    that close a loop, so every other arrow goes to a deeper step; steps no path reaches
    get one more than the deepest reached step."""
    order, loops = _topological_order(runbook)
    found: dict[str, int] = {}
    for step_id in order:
        found.setdefault(step_id, 0)
        for target in drawn_targets(runbook, step_id):
            if target in runbook.steps and (step_id, target) not in loops:
                found[target] = max(found.get(target, 0), found[step_id] + 1)
    last = max(found.values(), default=-1) + 1
    for step_id in runbook.steps:
        found.setdefault(step_id, last)
    return found


def discovery_order(runbook: Runbook) -> dict[str, int]:
    """Position of each reached step in breadth-first order from the start."""
    seen: dict[str, int] = {}
    queue = deque([runbook.start] if runbook.start in runbook.steps else [])
    while queue:
        current = queue.popleft()
        if current in seen:
            continue
        seen[current] = len(seen)
        queue.extend(t for t in drawn_targets(runbook, current) if t in runbook.steps)
    return seen


def _topological_order(runbook: Runbook) -> tuple[list[str], set[tuple[str, str]]]:
    """Reached steps in topological order (a depth-first walk), and the option arrows that
    close a loop."""
    if runbook.start not in runbook.steps:
        return [], set()
    loops: set[tuple[str, str]] = set()
    finished: list[str] = []
    state: dict[str, int] = {runbook.start: 1}  # 1: on the current path, 2: done
    stack = [(runbook.start, iter(drawn_targets(runbook, runbook.start)))]
    while stack:
        step_id, pending = stack[-1]
        target = next(pending, None)
        if target is None:
            stack.pop()
            state[step_id] = 2
            finished.append(step_id)
        elif target in runbook.steps:
            if state.get(target) == 1:
                loops.add((step_id, target))
            elif target not in state:
                state[target] = 1
                stack.append((target, iter(drawn_targets(runbook, target))))
    return finished[::-1], loops
