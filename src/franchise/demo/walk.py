"""Pick a believable path through a runbook for a demo run. Pure: no database.

The ticket's plan already says how it ended (resolved, or escalated to a level), so the
walk only takes answers from which that ending is still reachable.
"""

from __future__ import annotations

import random
from collections import deque

from franchise.runbooks.definition import Runbook

MAX_ANSWERS = 25
# Runbook input ids mapped to the ticket fact that fills them (see compose._facts).
INPUT_FACTS = {
    "affected_user": "email",
    "recipient": "email",
    "template_user": "user",
    "manager": "contact",
    "device": "host",
    "protected_device": "server",
    "client": "client",
    "printer": "printer",
    "volume": "drive",
    "free_space": "free_space",
    "kb_number": "kb",
    "error_code": "error",
    "job_name": "job",
    "backup_product": "backup",
    "sender": "sender_email",
    "new_user_name": "new_user",
    "role": "new_role",
    "start_date": "start_day",
    "vpn_client": "vpn",
}


def choose_answers(
    runbook: Runbook, rng: random.Random, *, outcome: str, level: str | None
) -> list[tuple[str, str]]:
    """(step, option) pairs from the start to a terminal step of kind `outcome`."""
    wanted = _targets(runbook, outcome, level)
    good = _can_reach(runbook, wanted)
    if runbook.start not in good:
        good = _can_reach(runbook, _targets(runbook, None, None))
    answers: list[tuple[str, str]] = []
    current, visited = runbook.start, [runbook.start]
    while not runbook.steps[current].is_terminal and len(answers) < MAX_ANSWERS:
        options = list(runbook.steps[current].options.items())
        # Prefer new ground, so retry loops are taken at most once or twice.
        choices = (
            [o for o in options if o[1] in good and o[1] not in visited]
            or [o for o in options if o[1] in good]
            or [o for o in options if o[1] in runbook.steps]
        )
        if not choices:
            break
        label, target = rng.choice(choices)
        answers.append((current, label))
        current = target
        visited.append(target)
    return answers


def _targets(runbook: Runbook, outcome: str | None, level: str | None) -> list[str]:
    terminals = [sid for sid, s in runbook.steps.items() if s.is_terminal]
    exact = [
        sid
        for sid in terminals
        if outcome is None
        or (
            runbook.steps[sid].kind == outcome and (level is None or runbook.steps[sid].to == level)
        )
    ]
    if exact or outcome is None:
        return exact
    return [sid for sid in terminals if runbook.steps[sid].kind == outcome]


def _can_reach(runbook: Runbook, targets: list[str]) -> set[str]:
    """Steps from which some answers lead to one of `targets` (used only for membership)."""
    before: dict[str, list[str]] = {sid: [] for sid in runbook.steps}
    for sid, step in runbook.steps.items():
        for target in step.options.values():
            if target in before:
                before[target].append(sid)
    found = set(targets)
    queue = deque(targets)
    while queue:
        for prev in before[queue.popleft()]:
            if prev not in found:
                found.add(prev)
                queue.append(prev)
    return found


def fill_inputs(runbook: Runbook, facts: dict[str, str]) -> dict[str, str]:
    """Values for the runbook's inputs from the ticket; required ones are never left empty."""
    values = {}
    for item in runbook.inputs:
        value = facts.get(INPUT_FACTS.get(item.id, ""), "")
        if value:
            values[item.id] = value
        elif item.required:
            values[item.id] = "see the ticket description"
    return values
