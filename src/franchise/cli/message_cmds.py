"""franchise message render|send|list and franchise templates show|lint|import|export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from franchise.cli.context import Json, console, get_context, print_json
from franchise.yamldoc.files import read_document

if TYPE_CHECKING:
    from datetime import datetime

app = typer.Typer(no_args_is_help=True)
templates_app = typer.Typer(no_args_is_help=True)

TemplateRef = Annotated[
    str, typer.Argument(help="A template key, or a stage (the ticket's runbook override first).")
]
TicketOpt = Annotated[int, typer.Option("--ticket", help="Ticket number.")]
ToOpt = Annotated[
    str | None,
    typer.Option(
        "--to", help="Recipient; default the ticket's requester, else the primary contact."
    ),
]
NextUpdateOpt = Annotated[
    str | None,
    typer.Option("--next-update", help="When the client hears next: +2h, 90m, 1d or an ISO time."),
]


def _next_update(text: str | None) -> datetime | None:
    from franchise.db import utcnow
    from franchise.messages.timing import parse_next_update

    return parse_next_update(text, utcnow()) if text else None


@app.command()
def render(
    ctx: typer.Context,
    template: TemplateRef,
    ticket: TicketOpt,
    to: ToOpt = None,
    next_update: NextUpdateOpt = None,
    by: Annotated[
        str | None, typer.Option(help="Sign as this staff member; default the assignee.")
    ] = None,
    json_out: Json = False,
) -> None:
    """Show the message a template makes for a ticket, without sending it."""
    from franchise.accounts.service import get_staff
    from franchise.messages import service
    from franchise.tickets.service import get_ticket

    with get_context(ctx).database().unit_of_work() as session:
        rendered = service.render_for_ticket(
            session,
            get_ticket(session, ticket),
            template,
            technician=get_staff(session, by) if by else None,
            next_update=_next_update(next_update),
            to=to,
        )
        data = rendered.to_dict()
    if json_out:
        print_json(data)
        return
    # Rendered text is the client's words: "[#42]" must not be read as console markup,
    # and lines print exactly as the e-mail will have them.
    console.print(f"[bold]To:[/] {escape(data['to'])}", highlight=False, soft_wrap=True)
    console.print(f"[bold]Subject:[/] {escape(data['subject'])}", highlight=False, soft_wrap=True)
    origin = escape(f"(template {data['template']}, stage {data['stage']})")
    console.print(f"[dim]{origin}[/]\n")
    console.print(data["body"], highlight=False, markup=False, soft_wrap=True, end="")


@app.command()
def send(
    ctx: typer.Context,
    template: TemplateRef,
    ticket: TicketOpt,
    by: Annotated[str, typer.Option(help="Who sends it (staff e-mail or name).")],
    to: ToOpt = None,
    next_update: NextUpdateOpt = None,
    cc_primary: Annotated[
        bool, typer.Option("--cc-primary", help="Copy the client's primary contact.")
    ] = False,
    body_file: Annotated[
        Path | None,
        typer.Option(
            "--body-file",
            help="Send this text instead of the template's body (render it first to edit it).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    json_out: Json = False,
) -> None:
    """E-mail the client from a template and record it on the ticket."""
    from franchise.accounts.service import get_staff
    from franchise.messages import service
    from franchise.tickets.service import get_ticket

    cli = get_context(ctx)
    db = cli.database()
    with db.unit_of_work() as session:
        message = service.send_message(
            session,
            get_ticket(session, ticket),
            template=template,
            by=get_staff(session, by),
            settings=cli.settings,
            to=to,
            next_update=_next_update(next_update),
            cc_primary=cc_primary,
            body=body_file.read_text(encoding="utf-8") if body_file else None,
        )
    # Committed above, then delivered after the commit: read what became of it.
    message = service.reload_message(db, message.id)
    data = service.message_dict(message)
    if json_out:
        print_json(data)
    elif data["status"] in ("sent", "queued"):
        verb = "Sent" if data["status"] == "sent" else "Queued"
        console.print(
            f"{verb} to {escape(data['to'])}: {escape(data['subject'])}",
            highlight=False,
            soft_wrap=True,
        )
    service.check_delivered(message)


@app.command("list")
def list_(ctx: typer.Context, ticket: TicketOpt, json_out: Json = False) -> None:
    """List the messages sent (or attempted) on a ticket."""
    from franchise.messages import service
    from franchise.tickets.service import get_ticket

    with get_context(ctx).database().unit_of_work() as session:
        rows = [
            service.message_dict(m)
            for m in service.list_messages(session, get_ticket(session, ticket))
        ]
    if json_out:
        print_json(rows)
        return
    table = Table("#", "when", "status", "template", "to", "subject")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["created_at"],
            r["status"],
            escape(r["template"] or ""),
            escape(r["to"]),
            escape(r["subject"]),
        )
    console.print(table)


@templates_app.command()
def show(
    ctx: typer.Context,
    json_out: Json = False,
    source: Annotated[bool, typer.Option("--source", help="Print the YAML document.")] = False,
) -> None:
    """Show the message templates in use."""
    from franchise.messages import service

    with get_context(ctx).database().unit_of_work() as session:
        revision, text = service.current_source(session)
        rows = service.template_dicts(service.load_templates(session))
    if json_out:
        print_json({"revision": revision, "templates": rows})
        return
    if source:
        console.print(text, highlight=False, markup=False, end="")
        return
    label = "starter set, not saved yet" if revision == 0 else f"revision {revision}"
    console.print(f"[bold]Message templates[/] ({label})")
    table = Table()
    # Keys are what people type next, so they are never wrapped.
    table.add_column("key", no_wrap=True)
    for column in ("stage", "runbook", "subject"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            escape(r["key"]), escape(r["stage"]), escape(r["runbook"] or ""), escape(r["subject"])
        )
    console.print(table)


@templates_app.command()
def lint(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A templates YAML file.")],
    json_out: Json = False,
) -> None:
    """Check a templates file; prints every problem with its line; exit 1 if any."""
    from franchise.errors import InvalidInput
    from franchise.messages import service
    from franchise.messages.lint import lint_templates

    try:
        text = read_document(file)
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {file}: {exc}") from None
    with get_context(ctx).database().unit_of_work() as session:
        parsed, problems = lint_templates(text, str(file), service.lint_context(session))
    count = len(parsed.templates) if parsed else 0
    if json_out:
        print_json(
            {"ok": not problems, "templates": count, "problems": [p.to_dict() for p in problems]}
        )
    else:
        for problem in problems:
            console.print(problem.format(), highlight=False, soft_wrap=True, markup=False)
        verdict = "[green]no problems[/]" if not problems else f"[red]{len(problems)} problem(s)[/]"
        console.print(f"{count} template(s) checked: {verdict}")
    if problems:
        raise typer.Exit(1)


@templates_app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A templates YAML file.")],
    note: Annotated[str, typer.Option(help="Revision note.")] = "imported",
    by: Annotated[str | None, typer.Option(help="Author (staff e-mail or name).")] = None,
    expected_revision: Annotated[
        int | None, typer.Option(help="Refuse unless still at this revision.")
    ] = None,
    json_out: Json = False,
) -> None:
    """Save a templates file as a new revision; any lint problem imports nothing."""
    from franchise.accounts.service import get_staff
    from franchise.messages import service

    with get_context(ctx).database().unit_of_work() as session:
        revision, changed = service.import_templates(
            session,
            file,
            author=get_staff(session, by) if by else None,
            note=note,
            expected_revision=expected_revision,
        )
        out = {"revision": revision.number, "changed": changed}
    if json_out:
        print_json(out)
    else:
        action = "saved as" if changed else "unchanged at"
        console.print(f"Templates {action} revision {out['revision']}")


@templates_app.command("export")
def export(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="File to write the templates YAML to.")],
) -> None:
    """Write the templates in use to a file (docs as code)."""
    from franchise.messages import service

    with get_context(ctx).database().unit_of_work() as session:
        revision = service.export_templates(session, file)
    console.print(f"Wrote templates (revision {revision}) to {escape(str(file))}")
