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


def shortest_path(runbook: Runbook, target: str) -> list[tuple[str, str]] | None:
    """(step, answer) pairs that lead from the start to `target`, or None when unreachable."""
    if runbook.start not in runbook.steps:
        return None
    came_from: dict[str, tuple[str, str] | None] = {runbook.start: None}
    queue = deque([runbook.start])
    while queue:
        current = queue.popleft()
        if current == target:
            break
        step = runbook.steps[current]
        for label, nxt in ({} if step.is_terminal else step.options).items():
            if nxt in runbook.steps and nxt not in came_from:
                came_from[nxt] = (current, label)
                queue.append(nxt)
    if target not in came_from:
        return None
    path: list[tuple[str, str]] = []
    node = came_from[target]
    while node is not None:
        path.append(node)
        node = came_from[node[0]]
    return list(reversed(path))
