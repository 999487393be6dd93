"""franchise kb connect|push|status: runbooks published to Hudu or IT Glue."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from franchise.cli.context import Json, console, get_context, print_json

app = typer.Typer(no_args_is_help=True)

Kind = Annotated[str, typer.Argument(help="hudu or itglue.")]


@app.command()
def connect(
    ctx: typer.Context,
    kind: Kind,
    api_key: Annotated[
        str,
        typer.Option(
            "--api-key",
            prompt=True,
            hide_input=True,
            envvar="FRANCHISE_KB_API_KEY",
            help="The API key (asked for when not given; or FRANCHISE_KB_API_KEY).",
        ),
    ],
    url: Annotated[
        str | None,
        typer.Option(help="Hudu: your Hudu address. IT Glue: the API address (default US)."),
    ] = None,
    organization_id: Annotated[
        str | None, typer.Option(help="IT Glue: the organization the documents go to.")
    ] = None,
    company_id: Annotated[
        str | None, typer.Option(help="Hudu: a company's KB instead of the global KB.")
    ] = None,
    folder_id: Annotated[str | None, typer.Option(help="A folder to put the articles in.")] = None,
) -> None:
    """Store a knowledge base's address and API key (sealed in the database)."""
    from franchise.kb import service

    context = get_context(ctx)
    with context.database().unit_of_work() as session:
        conn = service.connect(
            session,
            context.settings,
            kind,
            url=url,
            api_key=api_key,
            organization_id=organization_id,
            folder_id=folder_id,
            company_id=company_id,
        )
    console.print(
        escape(f"{service.NAMES[kind]} connected at {conn.url}; the API key is stored sealed")
    )


@app.command()
def push(
    ctx: typer.Context,
    kind: Kind,
    all_: Annotated[
        bool, typer.Option("--all", help="Push every runbook, changed or not.")
    ] = False,
    json_out: Json = False,
) -> None:
    """Create or update one article per runbook; only changed runbooks unless --all.
    Exit 1 if any runbook failed (the others are kept)."""
    from franchise.kb import service

    context = get_context(ctx)
    report = service.push(context.database(), context.settings, kind, force=all_)
    if json_out:
        print_json(report.to_dict())
    else:
        for item in report.pushed:
            console.print(
                escape(
                    f"{item['key']}: {item['action']} (revision {item['revision']}, "
                    f"article {item['external_id']})"
                )
            )
        for item in report.failed:
            console.print(f"[red]{escape(item['key'])}: failed:[/] {escape(item['error'])}")
        console.print(
            f"{len(report.pushed)} pushed, {len(report.unchanged)} unchanged, "
            f"{len(report.failed)} failed"
        )
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def status(ctx: typer.Context, json_out: Json = False) -> None:
    """Each knowledge base: where it is connected, and each runbook's article."""
    from franchise.kb import service

    context = get_context(ctx)
    with context.database().unit_of_work() as session:
        data = service.status(session, context.settings)
    if json_out:
        print_json(data)
        return
    for kind, info in data.items():
        name = service.NAMES[kind]
        if info["problem"]:
            console.print(f"[red]{escape(name)}: {escape(info['problem'])}[/]")
        elif not info["connected"]:
            console.print(f"{escape(name)}: not connected")
            continue
        else:
            console.print(f"{escape(name)}: {escape(info['url'])}, {info['due']} to push")
        table = Table("runbook", "rev", "pushed rev", "article", "pushed at", "state")
        for a in info["articles"]:
            table.add_row(
                *(
                    escape(str(a[c] if a[c] is not None else "-"))
                    for c in ("key", "revision", "pushed_revision", "external_id", "pushed_at")
                ),
                escape(a["state"]),
            )
        console.print(table)
