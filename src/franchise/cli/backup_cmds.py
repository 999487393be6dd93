"""franchise backup and franchise restore."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from franchise.cli.context import Json, console, get_context, print_json


def register(app: typer.Typer) -> None:
    app.command()(backup)
    app.command()(restore)


def backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Backup file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
    json_out: Json = False,
) -> None:
    """Back up the whole database into FILE (SQLite: online copy; PostgreSQL: pg_dump)."""
    from franchise.backup.service import backup_database
    from franchise.orgsettings.sealing import key_source

    settings = get_context(ctx).settings
    report = backup_database(settings.resolved_database_url, file.expanduser(), overwrite=force)
    if json_out:
        print_json(report)
        return
    console.print(
        f"Backed up {report['database']} to {report['file']} ({report['bytes']:,} bytes)\n"
        f"Secrets saved on the Settings page are sealed with {key_source(settings)}, which "
        "is not in the backup: keep a copy of it with your backups.",
        highlight=False,
        markup=False,
    )


def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Backup file made by `franchise backup`.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Replace the database's data without asking.")
    ] = False,
    json_out: Json = False,
) -> None:
    """Replace the database's contents with the backup in FILE."""
    from franchise.backup.service import check_restore, restore_database, safe_url, stored_rows

    url = get_context(ctx).settings.resolved_database_url
    path = file.expanduser()
    check_restore(url, path)
    if not yes and sys.stdin.isatty():
        rows = stored_rows(url)
        if rows:
            typer.confirm(
                f"{safe_url(url)} holds {rows} rows; replace them all with {path}?", abort=True
            )
            yes = True
    report = restore_database(url, path, replace=yes)
    if json_out:
        print_json(report)
        return
    console.print(
        f"Restored {report['file']} into {report['database']}: "
        f"{report['rows']:,} rows in {report['tables']} tables",
        highlight=False,
        markup=False,
    )
