"""The parsed shape of a runbook: plain frozen data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class Estimate:
    minutes: int
    cost: float
    impact: str
    kind: str | None = None


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

    @property
    def is_terminal(self) -> bool:
        return self.kind in TERMINAL_KINDS


@dataclass(frozen=True)
class Input:
    id: str
    label: str
    required: bool = False


@dataclass(frozen=True)
class EdgeCase:
    when: str
    do: str


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

    def step(self, step_id: str) -> Step:
        return self.steps[step_id]
