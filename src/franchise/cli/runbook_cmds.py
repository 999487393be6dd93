"""franchise runbook list|show|lint|export|import|revise."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from franchise.cli.context import Json, console, get_context, print_json
from franchise.yamldoc.files import read_document

if TYPE_CHECKING:  # imported by the commands that use them, not by `franchise --help`
    from franchise.lessons.models import Lesson
    from franchise.runbooks.service import ImportResult

app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_(ctx: typer.Context, json_out: Json = False) -> None:
    """List runbooks with category, status and revision."""
    from franchise.runbooks import service

    with get_context(ctx).database().unit_of_work() as session:
        rows = [
            {
                "key": r.key,
                "title": r.title,
                "category": r.category,
                "status": r.status,
                "revision": r.current_revision,
                "steps": len(service.definition(session, r).steps),
                "updated_at": r.updated_at.isoformat(),
            }
            for r in service.list_runbooks(session)
        ]
    if json_out:
        print_json(rows)
        return
    table = Table("key", "category", "status", "rev", "steps", "title")
    for r in rows:
        table.add_row(
            *(
                escape(str(r[c]))
                for c in ("key", "category", "status", "revision", "steps", "title")
            )
        )
    console.print(table)


@app.command()
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Runbook key, or a category with one runbook.")],
    json_out: Json = False,
    revision: Annotated[int | None, typer.Option(help="Show an older revision.")] = None,
) -> None:
    """Show a runbook: inputs, steps with their options, edge cases and done list."""
    from franchise.runbooks import service
    from franchise.runbooks.render import runbook_dict

    with get_context(ctx).database().unit_of_work() as session:
        row = service.get_runbook(session, ref)
        parsed = service.definition(session, row, revision)
        data = runbook_dict(parsed)
        data["revision"] = revision or row.current_revision
    if json_out:
        print_json(data)
        return
    about = escape(f"({parsed.key}, {parsed.category}, {parsed.status}, rev {data['revision']})")
    console.print(f"[bold]{escape(parsed.title)}[/]  {about}")
    if parsed.description:
        console.print(parsed.description, markup=False)
    if parsed.inputs:
        console.print("\n[bold]Inputs[/]")
        for field in parsed.inputs:
            required = " (required)" if field.required else ""
            console.print(f"  - {field.label}{required}", markup=False)
    console.print(f"\n[bold]Steps[/] (start: {escape(parsed.start)})")
    for step in parsed.steps.values():
        console.print(
            f"  [cyan]{escape(step.id)}[/] {escape(f'[{step.kind}] {step.text}')}",
            highlight=False,
        )
        if step.where:
            console.print(f"      where: {step.where}", highlight=False, markup=False)
        if step.estimate:
            e = step.estimate
            console.print(
                f"      estimate: {e.minutes} min, cost {e.cost:g}, impact {e.impact}",
                markup=False,
            )
        for label, target in step.options.items():
            console.print(f"      {label!r} -> {target}", highlight=False, markup=False)
        if step.to:
            console.print(f"      escalate to {step.to}", markup=False)
    if parsed.edge_cases:
        console.print("\n[bold]Edge cases[/]")
        for case in parsed.edge_cases:
            console.print(f"  - when {case.when}: {case.do}", highlight=False, markup=False)
    if parsed.sign_off:
        console.print("\n[bold]Sign-off[/]")
        for k, v in parsed.sign_off.items():
            console.print(f"  {k}: {v}", highlight=False, markup=False)
    if parsed.done_when:
        console.print("\n[bold]Done when[/]")
        for item in parsed.done_when:
            console.print(f"  [ ] {item}", highlight=False, markup=False)


@app.command()
def lint(
    paths: Annotated[list[Path], typer.Argument(help="Runbook files or folders.")],
    json_out: Json = False,
) -> None:
    """Check runbook files; prints every problem with file, line and step; exit 1 if any."""
    from franchise.runbooks.lint import lint_files

    report = lint_files(paths)
    if json_out:
        print_json(
            {
                "ok": report.ok,
                "runbooks": len(report.runbooks),
                "problems": [p.to_dict() for p in report.problems],
            }
        )
    else:
        for problem in report.problems:
            console.print(problem.format(), highlight=False, soft_wrap=True, markup=False)
        errors = len(report.errors)
        warnings = len(report.problems) - errors
        verdict = "[green]no problems[/]" if report.ok else f"[red]{errors} problem(s)[/]"
        if warnings:
            verdict += f", [yellow]{warnings} warning(s)[/] (format 2 rules on a format 1 file)"
        console.print(f"{len(report.runbooks)} runbook(s) checked: {verdict}")
    if not report.ok:
        raise typer.Exit(1)


@app.command("export")
def export(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="Folder to write the files into.")],
    format_: Annotated[
        str,
        typer.Option(
            "--format",
            help="yaml (<key>.yaml, re-importable), markdown (<key>.md + <key>.svg) or "
            "html (<key>.html with the flowchart inline): readable articles.",
        ),
    ] = "yaml",
) -> None:
    """Write every runbook's current revision to a folder: YAML, or articles to read."""
    from franchise.orgsettings.secrets import effective_settings
    from franchise.runbooks import service

    context = get_context(ctx)
    with context.database().unit_of_work() as session:
        if format_ == "yaml":
            written = service.export_runbooks(session, folder)
        else:
            base_url = effective_settings(session, context.settings).base_url
            written = service.export_articles(session, folder, format_, base_url)
    console.print(f"Wrote {len(written)} file(s) to {escape(str(folder))}")


@app.command("import")
def import_(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Runbook files or folders.")],
    note: Annotated[str, typer.Option(help="Revision note.")] = "imported",
    by: Annotated[str | None, typer.Option(help="Author (staff e-mail or name).")] = None,
    applies: Annotated[
        str | None,
        typer.Option(
            help="Lessons asking for a new runbook that this one (a single new file) folds in, "
            "e.g. 12,13 (marked applied)."
        ),
    ] = None,
    json_out: Json = False,
) -> None:
    """Import runbooks; all-or-nothing: one problem anywhere imports nothing."""
    from franchise.accounts.service import get_staff
    from franchise.runbooks import service

    if applies is not None:
        _import_new(ctx, paths, note=note, by=by, applies=applies, json_out=json_out)
        return
    with get_context(ctx).database().unit_of_work() as session:
        author = get_staff(session, by) if by else None
        results = service.import_runbooks(session, paths, author=author, note=note)
        rows = [{"key": r.runbook.key, "revision": r.revision, "action": r.action} for r in results]
    if json_out:
        print_json(rows)
        return
    for r in rows:
        console.print(f"{escape(str(r['key']))}: {r['action']} (revision {r['revision']})")


def _import_new(
    ctx: typer.Context,
    paths: list[Path],
    *,
    note: str,
    by: str | None,
    applies: str,
    json_out: bool,
) -> None:
    """`import FILE --applies IDS`: create one runbook folding in the lessons that asked for it."""
    from franchise.accounts.service import get_staff
    from franchise.errors import InvalidInput
    from franchise.lessons.service import create_runbook_with_lessons, parse_ids

    if len(paths) != 1 or not paths[0].is_file():
        raise InvalidInput(
            "--applies takes one runbook file: the new runbook the lessons asked for"
        )
    lesson_ids = parse_ids(applies)
    source = read_document(paths[0])
    with get_context(ctx).database().unit_of_work() as session:
        author = get_staff(session, by) if by else None
        result, lessons = create_runbook_with_lessons(
            session,
            source=source,
            file=str(paths[0]),
            author=author,
            note=note,
            lesson_ids=lesson_ids,
        )
        row = _saved_row(result, lessons)
    if json_out:
        print_json([row])
        return
    _print_saved(row, applies)


def _saved_row(result: ImportResult, lessons: Sequence[Lesson]) -> dict[str, Any]:
    """A saved revision and the lessons it applied, as --json prints it."""
    return {
        "key": result.runbook.key,
        "revision": result.revision,
        "action": result.action,
        "lessons_applied": [x.id for x in lessons],
    }


def _print_saved(row: dict[str, Any], applies: str | None) -> None:
    applied = f", applied lesson(s) {applies}" if row["lessons_applied"] else ""
    console.print(escape(f"{row['key']}: {row['action']} (revision {row['revision']}){applied}"))


@app.command()
def revise(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Runbook key.")],
    file: Annotated[
        Path, typer.Option("--file", help="The new YAML.", exists=True, dir_okay=False)
    ],
    note: Annotated[str, typer.Option(help="Why it changed.")],
    by: Annotated[str | None, typer.Option(help="Author (staff e-mail or name).")] = None,
    expected_revision: Annotated[
        int | None, typer.Option(help="Refuse unless still at this revision.")
    ] = None,
    applies: Annotated[
        str | None,
        typer.Option(help="Lesson ids this revision folds in, e.g. 12,13 (marked applied)."),
    ] = None,
    json_out: Json = False,
) -> None:
    """Save a new revision of a runbook from a file, optionally applying lessons."""
    from franchise.accounts.service import get_staff
    from franchise.lessons.service import parse_ids, revise_runbook_with_lessons

    source = read_document(file)
    lesson_ids = parse_ids(applies) if applies else []
    with get_context(ctx).database().unit_of_work() as session:
        author = get_staff(session, by) if by else None
        result, lessons = revise_runbook_with_lessons(
            session,
            key=key,
            source=source,
            file=str(file),
            author=author,
            note=note,
            lesson_ids=lesson_ids,
            expected_revision=expected_revision,
        )
        out = _saved_row(result, lessons)
    if json_out:
        print_json(out)
    else:
        _print_saved(out, applies)
