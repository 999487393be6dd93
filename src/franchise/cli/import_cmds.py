"""franchise import tickets, and franchise webhooks deliver (the PSA, both directions)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from franchise.cli.context import Json, console, err_console, get_context, print_json

if TYPE_CHECKING:
    from rich.progress import Progress

app = typer.Typer(no_args_is_help=True)
webhooks_app = typer.Typer(no_args_is_help=True)
# Below this many rows an import is over before a bar would be worth drawing.
PROGRESS_FROM_ROWS = 200


@app.command("tickets")
def tickets(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The PSA's ticket CSV export.", dir_okay=False)],
    format: Annotated[
        str, typer.Option("--format", "-f", help="connectwise, autotask, halopsa or generic.")
    ],
    mapping: Annotated[
        Path | None,
        typer.Option(
            help="YAML mapping file: columns and priority/status/category maps.", dir_okay=False
        ),
    ] = None,
    json_out: Json = False,
) -> None:
    """Import tickets from a PSA export; re-importing updates, never duplicates (exit 1 on bad rows)."""
    from franchise.psa.importer import import_tickets

    db = get_context(ctx).database()
    progress = _progress() if console.is_terminal and not json_out else None
    task: list[Any] = []

    def on_rows(total: int) -> None:
        if progress is not None and total >= PROGRESS_FROM_ROWS:
            progress.start()
            task.append(progress.add_task(f"Importing {escape(file.name)}", total=total))

    def on_progress(done: int) -> None:
        if progress is not None and task:
            progress.advance(task[0], done)

    try:
        report = import_tickets(
            db, file, format=format, mapping=mapping, on_rows=on_rows, on_progress=on_progress
        )
    finally:
        if progress is not None:
            progress.stop()
    data = report.to_dict()
    if json_out:
        print_json(data)
    else:
        where = escape(str(file))
        console.print(
            f"{where}: {data['imported']} imported, {data['updated']} updated, "
            f"{data['unchanged']} unchanged, {len(data['errors'])} bad row(s).",
            highlight=False,
            soft_wrap=True,
        )
        if data["clients_created"]:
            console.print(
                f"New clients: {escape(', '.join(data['clients_created']))}",
                highlight=False,
                soft_wrap=True,
            )
        for error in data["errors"]:
            err_console.print(
                f"[red]{where}:{error['line']}:[/] {escape(str(error['message']))}",
                highlight=False,
                soft_wrap=True,
            )
    if data["errors"]:
        raise typer.Exit(1)


def _progress() -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


@webhooks_app.command("deliver")
def deliver(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Most events to send.")] = 100,
    json_out: Json = False,
) -> None:
    """Send due PSA webhook events, signed; failures are retried later (exit 1 if any failed)."""
    from franchise.psa.webhook import deliver_outbox

    context = get_context(ctx)
    report = deliver_outbox(context.database(), context.settings, limit).to_dict()
    if json_out:
        print_json(report)
    else:
        console.print(
            f"{report['delivered']} delivered, {report['failed']} failed (will retry), "
            f"{report['gave_up']} given up, {report['waiting']} waiting.",
            highlight=False,
            soft_wrap=True,
        )
        for error in report["errors"]:
            err_console.print(
                f"[red]ticket #{error['ticket_id']} event {error['event_id']}:[/] "
                f"{escape(str(error['error']))}",
                highlight=False,
                soft_wrap=True,
            )
    if report["failed"] or report["gave_up"]:
        raise typer.Exit(1)
