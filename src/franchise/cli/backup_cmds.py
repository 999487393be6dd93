"""franchise backup (create, verify) and franchise restore."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import typer._click as click

from franchise.cli.context import Json, console, get_context, print_json


class BackupGroup(typer.core.TyperGroup):
    """`franchise backup FILE` stays the short form of `franchise backup create FILE`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["create", *args]
        return super().parse_args(ctx, args)


backup_app = typer.Typer(cls=BackupGroup, no_args_is_help=False)


def register(app: typer.Typer) -> None:
    app.add_typer(
        backup_app,
        name="backup",
        help="Back up the database (`franchise backup FILE`), or verify a backup file.",
    )
    app.command()(restore)


@backup_app.command("create")
def backup(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(help="Backup file to write; default: a dated file in FRANCHISE_BACKUP_DIR."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
    keep: Annotated[
        int | None,
        typer.Option(
            min=1, help="Without FILE: keep only the newest N dated backups in the folder."
        ),
    ] = None,
    json_out: Json = False,
) -> None:
    """Back up the whole database (SQLite: online copy; PostgreSQL: pg_dump)."""
    from franchise.backup.service import backup_database, backup_to_folder
    from franchise.errors import InvalidInput
    from franchise.orgsettings.sealing import key_source
    from franchise.tickets.notes import AttachmentStore

    settings = get_context(ctx).settings
    url = settings.resolved_database_url
    files = AttachmentStore.from_settings(settings).folder
    report: dict[str, Any]
    if file is None:
        report = backup_to_folder(url, settings.resolved_backup_dir, keep=keep, files=files)
    elif keep is not None:
        raise InvalidInput("--keep prunes dated backups in a folder: leave out FILE to use it")
    else:
        report = backup_database(url, file.expanduser(), overwrite=force, files=files)
    if json_out:
        print_json(report)
        return
    pruned = len(report.get("pruned", []))
    console.print(
        f"Backed up {report['database']} to {report['file']} ({report['bytes']:,} bytes)"
        + (
            f", and {report['files']} attached file(s) to {report['files_archive']}"
            if report.get("files")
            else ""
        )
        + (f"; {pruned} older backup(s) deleted" if pruned else "")
        + f"\nSecrets saved on the Settings page are sealed with {key_source(settings)}, "
        "which is not in the backup: keep a copy of it with your backups.",
        highlight=False,
        markup=False,
    )


@backup_app.command("verify")
def verify(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Backup file made by `franchise backup`.")],
    json_out: Json = False,
) -> None:
    """Restore FILE into a scratch database and compare its row counts with the file's."""
    from franchise.backup.verify import verify_backup

    url = get_context(ctx).settings.resolved_database_url
    report = verify_backup(url, file.expanduser())
    if json_out:
        print_json(report)
        return
    console.print(
        f"{report['file']} is good: {report['rows']:,} rows in {report['tables']} tables "
        f"restored as the file holds them (schema {report['schema_revision']})",
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
    from franchise.tickets.notes import AttachmentStore

    settings = get_context(ctx).settings
    url = settings.resolved_database_url
    path = file.expanduser()
    check_restore(url, path)
    if not yes and sys.stdin.isatty():
        rows = stored_rows(url)
        if rows:
            typer.confirm(
                f"{safe_url(url)} holds {rows} rows; replace them all with {path}?", abort=True
            )
            yes = True
    files = AttachmentStore.from_settings(settings).folder
    report = restore_database(url, path, replace=yes, files=files)
    if json_out:
        print_json(report)
        return
    console.print(
        f"Restored {report['file']} into {report['database']}: "
        f"{report['rows']:,} rows in {report['tables']} tables"
        + (f", and {report['files']} attached file(s) into {files}" if report["files"] else ""),
        highlight=False,
        markup=False,
    )
