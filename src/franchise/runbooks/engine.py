"""Walk a run through a runbook: start, answer, next step, outcome. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from franchise.errors import InvalidInput
from franchise.runbooks.definition import Runbook, Step


@dataclass(frozen=True)
class PathEntry:
    step: str
    answer: str


@dataclass(frozen=True)
class RunState:
    runbook: Runbook
    current: str
    path: tuple[PathEntry, ...] = field(default_factory=tuple)

    @property
    def step(self) -> Step:
        return self.runbook.steps[self.current]

    @property
    def finished(self) -> bool:
        return self.step.is_terminal

    @property
    def outcome(self) -> str:
        """`resolved`, `escalate`, or `incomplete` while a check/action waits for an answer."""
        if self.step.kind == "resolve":
            return "resolved"
        if self.step.kind == "escalate":
            return "escalate"
        return "incomplete"

    @property
    def level(self) -> str | None:
        return self.step.to if self.step.kind == "escalate" else None

    @property
    def emergency(self) -> bool:
        return self.step.kind == "escalate" and self.step.emergency

    @property
    def done_items(self) -> tuple[str, ...]:
        """The done list of the ending reached (empty while the run is under way)."""
        return self.runbook.done_items(self.current) if self.outcome == "resolved" else ()

    def to_dict(self) -> dict[str, object]:
        return {
            "runbook": self.runbook.key,
            "outcome": self.outcome,
            "level": self.level,
            "emergency": self.emergency,
            "path": [{"step": e.step, "answer": e.answer} for e in self.path],
            "next_step": None if self.finished else self.current,
            "final_step": self.current if self.finished else None,
            "next": None if self.finished else next_dict(self.runbook, self.step),
            "done_when": list(self.done_items),
        }


def next_dict(runbook: Runbook, step: Step) -> dict[str, object]:
    """What the runner shows for the step waiting for an answer."""
    return {
        "step": step.id,
        "kind": step.kind,
        "text": step.text,
        "where": step.where,
        "options": list(step.options),
        "fact": None,
        "blocked_by": None,
        "edge_cases": [
            {"number": n, "when": c.when, "do": c.do, "switch": c.switch, "escalate": c.escalate}
            for n, c in enumerate(runbook.edge_cases, 1)
            if c.applies_to(step.id)
        ],
    }


def start(runbook: Runbook) -> RunState:
    if runbook.start not in runbook.steps:
        raise InvalidInput(f"runbook '{runbook.key}' has no start step '{runbook.start}'")
    return RunState(runbook, runbook.start)


def resolve_option(step: Step, answer: str) -> str:
    """The exact option label for an answer: the label itself (without regard to case or
    spaces), or its number in the list as the runner shows it (1-based)."""
    if answer in step.options:
        return answer
    labels = list(step.options)
    if answer.strip().isdecimal() and 1 <= int(answer) <= len(labels):
        return labels[int(answer) - 1]
    wanted = answer.strip().casefold()
    for label in step.options:
        if label.strip().casefold() == wanted:
            return label
    choices = ", ".join(f"'{label}'" for label in step.options) or "none (this step ends the run)"
    raise InvalidInput(f"'{answer}' is not an answer to step '{step.id}'; choose one of {choices}")


# The answer recorded when an action step's approval is denied and the step names where a
# denial leads (`on_denied`).
DENIED = "(approval denied)"


def answer(state: RunState, reply: str) -> RunState:
    if state.finished:
        raise InvalidInput(f"the run already ended at step '{state.current}' ({state.outcome})")
    if reply == DENIED and state.step.on_denied:
        label, target = DENIED, state.step.on_denied
    else:
        label = resolve_option(state.step, reply)
        target = state.step.options[label]
    if target not in state.runbook.steps:
        raise InvalidInput(
            f"option '{label}' of step '{state.current}' leads to missing step '{target}'"
        )
    return RunState(state.runbook, target, (*state.path, PathEntry(state.current, label)))


def back(state: RunState) -> RunState:
    """Undo the last answer."""
    if not state.path:
        raise InvalidInput("the run is at its first step; there is nothing to go back to")
    last = state.path[-1]
    return RunState(state.runbook, last.step, state.path[:-1])


def replay(runbook: Runbook, answers: Iterable[tuple[str, str]]) -> RunState:
    """Follow recorded (step, answer) pairs from the start; each must match the current step."""
    state = start(runbook)
    for step_id, reply in answers:
        if step_id != state.current:
            raise InvalidInput(
                f"answer given for step '{step_id}' but the run is at '{state.current}'"
            )
        state = answer(state, reply)
    return state


def follow(runbook: Runbook, answers: dict[str, list[str]], max_steps: int = 500) -> RunState:
    """Answer each step from a per-step queue of replies until one is missing or the run ends.

    Used by `franchise run --answer STEP=OPTION`: order between different steps does not matter,
    and a step met twice (a retry loop) takes its replies in order.
    """
    queues = {k: list(v) for k, v in answers.items()}
    unknown = sorted(set(queues) - set(runbook.steps))
    if unknown:
        raise InvalidInput(
            f"no step named {', '.join(repr(u) for u in unknown)} in '{runbook.key}'"
        )
    state = start(runbook)
    for _ in range(max_steps):
        if state.finished or not queues.get(state.current):
            return state
        state = answer(state, queues[state.current].pop(0))
    if state.finished or not queues.get(state.current):
        return state  # exactly max_steps answers is not a loop
    raise InvalidInput(f"the answers go round in a loop for more than {max_steps} steps")
