"""A test helper: the answers that walk a runbook from its start to a given step."""

from __future__ import annotations

from collections import deque

from franchise.runbooks.definition import Runbook


def route_to(runbook: Runbook, target: str) -> list[tuple[str, str]] | None:
    """(step, answer) pairs of a shortest walk from the start to `target`; None when no
    sequence of answers reaches it."""
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
