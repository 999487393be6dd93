"""franchise upgrade and franchise ready: running Franchise in production."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from franchise.cli.context import Json, console, get_context, print_json


def register(app: typer.Typer) -> None:
    app.command()(upgrade)
    app.command()(ready)


def upgrade(
    ctx: typer.Context,
    backup_dir: Annotated[
        Path | None,
        typer.Option(help="Folder for the backup taken first (default FRANCHISE_BACKUP_DIR)."),
    ] = None,
    no_backup: Annotated[
        bool, typer.Option("--no-backup", help="Skip the backup (you made your own).")
    ] = False,
    json_out: Json = False,
) -> None:
    """Back up, apply migrations, check the schema and the starter library."""
    from franchise.db import Database
    from franchise.ops.logs import configure_logging
    from franchise.ops.upgrade import upgrade_database

    cli = get_context(ctx)
    settings = cli.settings
    # "Waiting for another process's migration" must reach the operator's terminal.
    configure_logging(settings.log_format)
    folder = None if no_backup else (backup_dir or settings.resolved_backup_dir).expanduser()
    db = Database.from_url(settings.resolved_database_url)
    try:
        report = upgrade_database(db, backup_dir=folder)
    finally:
        db.dispose()
    if json_out:
        print_json(report)
        return
    if report["migrated"]:
        console.print(
            f"Schema upgraded from {report['from_revision'] or 'empty'} to "
            f"{report['to_revision']}.",
            highlight=False,
            markup=False,
        )
    else:
        console.print(f"Schema already at {report['to_revision']}; nothing to migrate.")
    if report["backup"]:
        console.print(f"Backup taken first: {report['backup']['file']}", markup=False)
    library = report["starter_library"]
    console.print(
        f"Schema matches the models. Starter library: {library['runbooks_loaded']} runbook(s) "
        f"added, {library['runbooks_total']} in all.",
        highlight=False,
    )


def ready(ctx: typer.Context, json_out: Json = False) -> None:
    """Exit 0 when the database answers and its schema is current (for scripts and probes)."""
    from franchise.db import Database
    from franchise.ops.readiness import check_ready

    db = Database.from_url(get_context(ctx).settings.resolved_database_url)
    try:
        report = check_ready(db)
    finally:
        db.dispose()
    if json_out:
        print_json(report)
    else:
        console.print(
            "ready" if report["ready"] else "not ready: " + "; ".join(report["reasons"]),
            markup=False,
        )
    if not report["ready"]:
        raise typer.Exit(1)
