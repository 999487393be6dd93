"""Templates lint: schema problems from the parser, template text checks and cross-checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from franchise.messages.definition import STAGES, Template, TemplateSet
from franchise.messages.parse import parse_templates
from franchise.messages.render import check_text
from franchise.yamldoc.problems import Problem


@dataclass(frozen=True)
class LintContext:
    # None means "runbooks unknown here": runbook overrides are then not checked.
    runbooks: Sequence[str] | None = None


def lint_templates(
    text: str,
    file: str = "<templates>",
    context: LintContext | None = None,
    *,
    revision: int = 0,
) -> tuple[TemplateSet | None, list[Problem]]:
    """Every problem in a templates document, sorted by line; the set only when parseable."""
    templates, problems = parse_templates(text, file)
    if templates is None:
        return None, problems
    problems = problems + check_templates(templates, file, context or LintContext())
    ordered = sorted(set(problems), key=lambda p: (p.line, p.code, p.message))
    return TemplateSet(revision, tuple(templates)), ordered


def check_templates(
    templates: Sequence[Template], file: str, context: LintContext
) -> list[Problem]:
    problems: list[Problem] = []

    def add(line: int, code: str, message: str) -> None:
        problems.append(Problem(file, line, None, code, message))

    first_seen: dict[str, int] = {}
    for template in templates:
        label = f"template '{template.key}'"
        if template.key in first_seen:
            add(
                template.line,
                "duplicate-key",
                f"{label} is already defined at line {first_seen[template.key]}",
            )
        else:
            first_seen[template.key] = template.line
        if template.key in STAGES:
            add(
                template.line,
                "key-is-stage",
                f"{label}: naming '{template.key}' picks by stage (runbook overrides first), "
                "so this key could never pick this template; give it its own key",
            )
        if (
            template.runbook is not None
            and context.runbooks is not None
            and template.runbook not in context.runbooks
        ):
            add(
                template.line,
                "unknown-runbook",
                f"{label} overrides runbook '{template.runbook}', which does not exist",
            )
        for part, source, start in (
            ("subject", template.subject, template.subject_line),
            ("body", template.body, template.body_line),
        ):
            for found in check_text(source):
                add(start + found.line - 1, found.code, f"{label} {part}: {found.message}")
    generic = {t.stage for t in templates if t.runbook is None}
    for stage in STAGES:
        if stage not in generic:
            add(
                1,
                "missing-stage",
                f"no generic template for stage '{stage}' (one without 'runbook:'), "
                "so tickets without an override could not get that message",
            )
    return problems
