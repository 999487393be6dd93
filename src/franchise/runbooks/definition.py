"""The parsed shape of a runbook: plain frozen data, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

STEP_KINDS = ("check", "action", "resolve", "escalate")
TERMINAL_KINDS = ("resolve", "escalate")
STATUSES = ("draft", "validated", "archived")
IMPACTS = ("none", "low", "medium", "high")
CATEGORIES = (
    "vpn",
    "patching",
    "backup",
    "mfa",
    "email-quarantine",
    "account-lockout",
    "endpoint-offline",
    "disk-space",
    "printer",
    "onboarding",
)
DEFAULT_LEVELS = ("L1", "L2", "owner")
# A runbook is used live on a call; past this many steps nobody follows it to the end.
MAX_STEPS = 30
RECURRING = ("once", "month", "year")
# The answer the runner adds to a check, or to an action's outcomes, when the runbook has a
# fallback and the step has no way out of its own: a technician whose case no answer fits
# escalates with what the fallback asks for instead of picking a wrong answer.
FALLBACK_LABEL = "None of these / not sure"
ACTION_FALLBACK_LABEL = "Could not do this / none of these"
FALLBACK_STEP = "fallback"
# An option label that already is a way out ("Other or not sure", "Unclear" ...). "Other"
# counts only as the label's first word: "Other product" is a catch-all, "In the Other tab"
# is a place.
WAY_OUT_WORDS = (
    "none of these",
    "none of the above",
    "not sure",
    "unclear",
    "something else",
    "unknown",
    "cannot tell",
    "can't tell",
    "don't know",
)


@dataclass(frozen=True)
class Estimate:
    minutes: int
    cost: float
    impact: str
    kind: str | None = None
    recurring: str = "once"

    @property
    def annual_cost(self) -> float:
        """What the action costs over a year: recurring costs are compared annualised."""
        return self.cost * 12 if self.recurring == "month" else self.cost


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    text: str
    line: int = 0
    where: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    option_lines: dict[str, int] = field(default_factory=dict)
    to: str | None = None
    estimate: Estimate | None = None
    # True when the file has an estimate, even an invalid one (reported as bad-estimate).
    estimate_given: bool = False
    template: str | None = None
    # v2: this ending's own done items, the client fact a check answers, the step a denied
    # approval leads to, an owner escalation's emergency flag, a per-step review date.
    done_when: tuple[str, ...] = ()
    fact: str | None = None
    on_denied: str | None = None
    emergency: bool = False
    review_by: date | None = None
    # The shared block (`use:`) this step was expanded from, and the option the runner
    # added because the runbook has a fallback.
    used_from: str | None = None
    added_option: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.kind in TERMINAL_KINDS

    @property
    def has_way_out(self) -> bool:
        return any(is_way_out(label) for label in self.options)

    @property
    def fallback_label(self) -> str:
        """The answer a runbook's fallback adds to this step."""
        return ACTION_FALLBACK_LABEL if self.kind == "action" else FALLBACK_LABEL


_WAY_OUT = re.compile(r"^other\b|\b(?:" + "|".join(re.escape(w) for w in WAY_OUT_WORDS) + r")\b")


def is_way_out(label: str) -> bool:
    return _WAY_OUT.search(label.strip().casefold()) is not None


@dataclass(frozen=True)
class Input:
    id: str
    label: str
    required: bool = False


@dataclass(frozen=True)
class EdgeCase:
    when: str
    do: str
    # v2: the steps it belongs to (empty: the whole runbook) and what following it does.
    steps: tuple[str, ...] = ()
    switch: str | None = None
    escalate: str | None = None
    line: int = 0

    def applies_to(self, step_id: str) -> bool:
        return not self.steps or step_id in self.steps or (step_id.split(".")[0] in self.steps)


@dataclass(frozen=True)
class Fallback:
    to: str
    text: str


@dataclass(frozen=True)
class Runbook:
    key: str
    title: str
    category: str
    status: str
    start: str
    steps: dict[str, Step]
    description: str = ""
    maintainer: str | None = None
    keywords: tuple[str, ...] = ()
    alert_types: tuple[str, ...] = ()
    inputs: tuple[Input, ...] = ()
    edge_cases: tuple[EdgeCase, ...] = ()
    sign_off: dict[str, str] = field(default_factory=dict)
    done_when: tuple[str, ...] = ()
    templates: dict[str, str] = field(default_factory=dict)
    line_of: dict[str, int] = field(default_factory=dict)
    format: int = 1
    review_by: date | None = None
    fallback: Fallback | None = None

    def step(self, step_id: str) -> Step:
        return self.steps[step_id]

    def done_items(self, ending: str | None) -> tuple[str, ...]:
        """The done list of an ending: the runbook-wide items, then the ending's own."""
        own = self.steps[ending].done_when if ending in self.steps else ()
        return tuple(dict.fromkeys((*self.done_when, *own)))

    def edge_cases_for(self, step_id: str) -> tuple[EdgeCase, ...]:
        return tuple(case for case in self.edge_cases if case.applies_to(step_id))
