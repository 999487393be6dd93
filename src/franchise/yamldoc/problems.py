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

    def format(self) -> str:
        where = f"{self.file}:{self.line}"
        step = f" step '{self.step}'" if self.step else ""
        return f"{where}:{step} {self.message} [{self.code}]"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
