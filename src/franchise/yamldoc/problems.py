"""A problem found in a YAML document, located by file, line and (for runbooks) step."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    step: str | None
    code: str
    message: str
    # A warning is reported but never refuses a save (v2 rules on a v1 runbook).
    severity: str = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def format(self) -> str:
        where = f"{self.file}:{self.line}"
        step = f" step '{self.step}'" if self.step else ""
        label = " warning:" if not self.is_error else ""
        return f"{where}:{step}{label} {self.message} [{self.code}]"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ProblemList:
    """Collects the problems of one file while a parser walks it."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, line: int, code: str, message: str, step: str | None = None) -> None:
        self.problems.append(Problem(self.file, line, step, code, message))
