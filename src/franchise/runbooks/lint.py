"""Runbook lint: schema problems from the parser plus the decision-graph rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from franchise.runbooks.definition import (
    CATEGORIES,
    DEFAULT_LEVELS,
    MAX_STEPS,
    STATUSES,
    Runbook,
    Step,
)
from franchise.runbooks.graph import can_finish, reachable
from franchise.runbooks.parse import parse_runbook
from franchise.yamldoc.problems import Problem

# Rules added with format 2: errors in a `format: 2` file, warnings in a v1 file so that
# runbooks written before them keep importing.
V2_RULES = ("no-fallback", "owner-not-emergency")


@dataclass(frozen=True)
class LintContext:
    levels: Sequence[str] = DEFAULT_LEVELS
    categories: Sequence[str] = CATEGORIES
    # None means "templates unknown here": template references are then not checked.
    templates: Sequence[str] | None = None
    # Action kinds of the approval boundaries; None means not checked.
    kinds: Sequence[str] | None = None


Add = Callable[..., None]


@dataclass
class LintReport:
    runbooks: list[tuple[str, Runbook]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def lint_source(
    text: str, file: str = "<runbook>", context: LintContext | None = None
) -> tuple[Runbook | None, list[Problem]]:
    runbook, problems = parse_runbook(text, file)
    if runbook is None:
        return None, problems
    problems = problems + check_runbook(runbook, file, context or LintContext())
    return runbook, sorted(set(problems), key=lambda p: (p.line, p.code, p.step or ""))


def check_runbook(runbook: Runbook, file: str, context: LintContext) -> list[Problem]:
    """The rules that need the whole parsed runbook."""
    problems: list[Problem] = []

    def add(line: int, code: str, message: str, step: str | None = None) -> None:
        severity = "warning" if code in V2_RULES and runbook.format < 2 else "error"
        problems.append(Problem(file, line, step, code, message, severity))

    top = runbook.line_of
    if runbook.category and runbook.category not in context.categories:
        add(
            top.get("category", 1),
            "unknown-category",
            f"unknown category '{runbook.category}' (known: {', '.join(context.categories)})",
        )
    if runbook.status and runbook.status not in STATUSES:
        add(
            top.get("status", 1),
            "unknown-status",
            f"unknown status '{runbook.status}' (use {', '.join(STATUSES)})",
        )
    if runbook.start and runbook.steps and runbook.start not in runbook.steps:
        add(top.get("start", 1), "unknown-start", f"start step '{runbook.start}' does not exist")
    if len(runbook.steps) > MAX_STEPS:
        add(
            top.get("steps", 1),
            "too-long",
            f"{len(runbook.steps)} steps; keep a runbook to {MAX_STEPS} or fewer (split it)",
        )

    for step in runbook.steps.values():
        if step.kind in ("check", "action") and not step.options:
            add(
                step.line,
                "no-options",
                f"{step.kind} step has no options, so a run stops here",
                step.id,
            )
        if step.is_terminal and step.options:
            add(
                step.line,
                "options-on-end",
                f"{step.kind} step ends a run; remove its options",
                step.id,
            )
        for label, target in step.options.items():
            line = step.option_lines.get(label, step.line)
            if not label.strip():
                add(line, "empty-option", "an option has an empty answer label", step.id)
            if target not in runbook.steps:
                add(
                    line,
                    "unknown-target",
                    f"option '{label}' leads to step '{target}', which does not exist",
                    step.id,
                )
        if step.kind == "escalate":
            if not step.to:
                add(
                    step.line,
                    "escalate-without-level",
                    "escalate step must name a level with 'to'",
                    step.id,
                )
            elif step.to not in context.levels:
                add(
                    step.line,
                    "unknown-level",
                    f"escalates to unknown level '{step.to}' (levels: {', '.join(context.levels)})",
                    step.id,
                )
        _check_v2_step(runbook, step, context, add)
        if step.kind == "action" and step.estimate is None and not step.estimate_given:
            add(
                step.line,
                "missing-estimate",
                "action step needs an estimate {minutes, cost, impact} for approvals",
                step.id,
            )
        if (
            step.template
            and context.templates is not None
            and step.template not in context.templates
        ):
            add(
                step.line, "unknown-template", f"template '{step.template}' does not exist", step.id
            )
    if context.templates is not None:
        for stage, template in runbook.templates.items():
            if template not in context.templates:
                add(
                    top.get("templates", 1),
                    "unknown-template",
                    f"templates.{stage} refers to '{template}', which does not exist",
                )

    _check_edge_cases(runbook, context, add)
    if runbook.start in runbook.steps:
        reached = reachable(runbook)
        finishing = can_finish(runbook)
        for step in runbook.steps.values():
            if step.id not in reached:
                add(step.line, "unreachable", "no path from the start reaches this step", step.id)
            elif step.id not in finishing and step.options:
                add(
                    step.line,
                    "no-exit",
                    "no sequence of answers from here reaches resolve or escalate (a cycle with no exit)",
                    step.id,
                )
    return problems


def _check_v2_step(runbook: Runbook, step: Step, context: LintContext, add: Add) -> None:
    if step.kind == "check" and not step.has_way_out and step.added_option is None:
        add(
            step.line,
            "no-fallback",
            "check has no way out for 'none of these / not sure': add such an option "
            "or a runbook-level fallback {to, text}",
            step.id,
        )
    if step.kind == "escalate" and step.to == "owner" and not step.emergency:
        add(
            step.line,
            "owner-not-emergency",
            "an escalation to the owner is for emergencies only: set emergency: true, "
            "or escalate to L2",
            step.id,
        )
    if step.done_when and step.kind != "resolve":
        add(step.line, "done-not-on-ending", "done_when belongs on a resolve step", step.id)
    if step.on_denied is not None:
        if step.kind != "action":
            add(step.line, "on-denied-not-action", "on_denied belongs on an action step", step.id)
        elif step.on_denied not in runbook.steps:
            add(
                step.line,
                "unknown-target",
                f"on_denied leads to step '{step.on_denied}', which does not exist",
                step.id,
            )
    kind = step.estimate.kind if step.estimate else None
    if kind and context.kinds is not None and kind not in context.kinds:
        add(
            step.line,
            "unknown-kind",
            f"estimate.kind '{kind}' is not an action kind of the approval boundaries "
            f"({', '.join(context.kinds)})",
            step.id,
        )


def _check_edge_cases(runbook: Runbook, context: LintContext, add: Add) -> None:
    for case in runbook.edge_cases:
        line = case.line or runbook.line_of.get("edge_cases", 1)
        for sid in case.steps:
            if sid not in runbook.steps:
                add(line, "unknown-target", f"edge case names step '{sid}', which does not exist")
        if case.escalate and case.escalate not in context.levels:
            add(
                line,
                "unknown-level",
                f"edge case escalates to unknown level '{case.escalate}' "
                f"(levels: {', '.join(context.levels)})",
            )


def lint_files(paths: Iterable[Path], context: LintContext | None = None) -> LintReport:
    """Lint files (folders are searched for *.yaml / *.yml), including duplicate keys, and
    the step library the runbooks' `use:` steps come from."""
    from franchise.runbooks.steplib import default_library

    report = LintReport()
    report.problems.extend(default_library().problems)
    first_seen: dict[str, str] = {}
    for path in expand(paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            report.problems.append(
                Problem(str(path), 1, None, "unreadable", f"cannot read file: {exc}")
            )
            continue
        runbook, problems = lint_source(text, str(path), context)
        report.problems.extend(problems)
        if runbook is None:
            continue
        if runbook.key in first_seen:
            report.problems.append(
                Problem(
                    str(path),
                    runbook.line_of.get("key", 1),
                    None,
                    "duplicate-key",
                    f"key '{runbook.key}' is already used by {first_seen[runbook.key]}",
                )
            )
        else:
            first_seen[runbook.key] = str(path)
        report.runbooks.append((str(path), runbook))
    return report


def expand(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")))
        else:
            files.append(path)
    return files
