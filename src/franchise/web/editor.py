"""The YAML editor shared by the runbook and policy pages: lint beside the line, diffs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.models import Staff
from franchise.errors import InvalidInput
from franchise.web.templating import render
from franchise.web.textdiff import diff_lines
from franchise.yamldoc.problems import Problem

Intent = Literal["lint", "save"]
MAX_SOURCE = 200_000
MAX_NOTE = 2000


@dataclass(frozen=True)
class LintLine:
    number: int
    text: str
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class LintView:
    """The text with line numbers and each problem beside the line it names."""

    lines: tuple[LintLine, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.is_error)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if not p.is_error)


def lint_view(text: str, problems: Sequence[Problem]) -> LintView:
    lines = text.splitlines() or [""]
    placed: dict[int, list[Problem]] = {}
    for problem in problems:
        # A problem found at the end of the text (an unclosed bracket) belongs on its last line.
        number = min(max(problem.line, 1), len(lines))
        placed.setdefault(number, []).append(problem)
    rows = tuple(
        LintLine(number, line, tuple(placed.get(number, ())))
        for number, line in enumerate(lines, start=1)
    )
    return LintView(rows, tuple(sorted(problems, key=lambda p: (p.line, p.code))))


def is_htmx(request: Request) -> bool:
    return bool(request.headers.get("hx-request")) and not request.headers.get(
        "hx-history-restore-request"
    )


def lint_partial(request: Request, view: LintView) -> Response:
    response = render(request, "partials/editor_lint.html", {"lint": view})
    response.headers["Vary"] = "HX-Request"
    return response


def check_sizes(source: str, note: str) -> None:
    if len(source) > MAX_SOURCE:
        raise InvalidInput(f"The document is {len(source)} characters; the limit is {MAX_SOURCE}.")
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"The note is {len(note)} characters; the limit is {MAX_NOTE}.")
    if not note.strip():
        raise InvalidInput("Say what changed and why in the note: it goes into the history.")


def staff_names(session: Session, ids: Sequence[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(wanted)))
    return {int(i): str(n) for i, n in rows}


def diff_context(old: str, new: str, from_no: int, to_no: int) -> dict[str, Any]:
    return {"diff": diff_lines(old, new), "from_no": from_no, "to_no": to_no}


def normalise(source: str) -> str:
    """Browsers send textareas with CRLF line ends; store what a YAML file would hold."""
    text = source.replace("\r\n", "\n")
    return text if text.endswith("\n") or not text else text + "\n"
