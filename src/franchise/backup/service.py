"""Back up the configured database into one file and restore it from one."""

from __future__ import annotations

import os
import tarfile
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from franchise.backup import postgres, sqlite
from franchise.backup.formats import POSTGRESQL, SQLITE, backend_of, describe, detect_format
from franchise.db import Database, make_engine
from franchise.errors import Conflict, FranchiseError, InvalidInput, Refused
from franchise.migrate import upgrade

FILES_SUFFIX = ".files.tar"


def files_archive(backup: Path) -> Path:
    """Where the files stored beside the database (note attachments) go with a backup."""
    return backup.with_name(backup.name + FILES_SUFFIX)


def backup_database(
    url: str, dest: Path, *, overwrite: bool = False, files: Path | None = None
) -> dict[str, Any]:
    """Write a consistent copy of the database to `dest`, atomically: never half a file.
    With `files` (the attachments folder), its files go to `dest` + ".files.tar", taken
    after the database so every file a row names is in it."""
    kind = backend_of(url)
    if dest.is_dir():
        raise InvalidInput(f"{dest} is a folder; give a file name")
    if dest.exists() and not overwrite:
        raise Conflict(f"{dest} already exists; pass --force to overwrite it")
    if not dest.parent.is_dir():
        raise InvalidInput(f"folder {dest.parent} does not exist")
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        if kind == SQLITE:
            sqlite.backup(url, partial)
        else:
            postgres.backup(url, partial)
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    report: dict[str, Any] = {
        "backend": kind,
        "database": safe_url(url),
        "file": str(dest),
        "bytes": dest.stat().st_size,
    }
    if files is not None:
        report.update(_archive_files(files, files_archive(dest)))
    return report


def _archive_files(folder: Path, archive: Path) -> dict[str, Any]:
    """Tar the folder's stored files (not half-written ones) into `archive`, atomically."""
    stored = (
        sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        if folder.is_dir()
        else []
    )
    if not stored:
        # An older archive under this name belongs to the backup just overwritten.
        archive.unlink(missing_ok=True)
        return {"files": 0, "files_archive": None}
    partial = archive.with_name(f".{archive.name}.partial")
    try:
        with tarfile.open(partial, "w") as tar:
            for path in stored:
                tar.add(path, arcname=path.name, recursive=False)
        os.replace(partial, archive)
    finally:
        partial.unlink(missing_ok=True)
    return {"files": len(stored), "files_archive": str(archive)}


def restore_files(source: Path, folder: Path) -> int:
    """Put the files of the backup's archive (if it has one) back into `folder`. Files
    already there stay; a name in both is the same file (names are random, never reused)."""
    archive = files_archive(source)
    if not archive.is_file():
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r") as tar:
            members = [m for m in tar.getmembers() if m.isfile() and "/" not in m.name]
            # The "data" filter refuses links, devices and paths leaving the folder.
            tar.extractall(folder, members=members, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise InvalidInput(f"{archive} cannot be read as the backup's files: {exc}") from None
    return len(members)


def backup_to_folder(
    url: str,
    folder: Path,
    *,
    label: str = "",
    keep: int | None = None,
    now: datetime | None = None,
    files: Path | None = None,
) -> dict[str, Any]:
    """Back up into `folder` under a time-stamped name; with `keep`, prune older ones."""
    from franchise.backup.folder import backup_name, prune, with_pruned

    folder.mkdir(parents=True, exist_ok=True)
    report = backup_database(url, folder / backup_name(url, label=label, now=now), files=files)
    return with_pruned(report, prune(folder, keep) if keep is not None else [])


def restore_database(
    url: str, source: Path, *, replace: bool = False, files: Path | None = None
) -> dict[str, Any]:
    """Replace the database's contents with the backup in `source`, then bring its schema
    up to date. Refused when the database holds data, unless `replace`. With `files`, the
    backup's files archive (if any) is unpacked there."""
    kind = check_restore(url, source)
    before = stored_rows(url)
    if before and not replace:
        raise Refused(
            f"{safe_url(url)} holds {before} rows; restoring replaces all of them: "
            "pass --yes to go ahead"
        )
    if kind == SQLITE:
        sqlite.restore(url, source)
    else:
        postgres.restore(url, source)
    db = Database.from_url(url)
    try:
        # A backup from an older Franchise gets the migrations it missed.
        upgrade(db)
        counts = table_counts(db.bind) if isinstance(db.bind, Engine) else {}
    finally:
        db.dispose()
    return {
        "backend": kind,
        "database": safe_url(url),
        "file": str(source),
        "replaced_rows": before,
        "tables": len(counts),
        "rows": sum(counts.values()),
        "files": restore_files(source, files) if files is not None else 0,
    }


def check_restore(url: str, source: Path) -> str:
    """Refuse a file that cannot be restored into the configured database; return its kind."""
    kind = backend_of(url)
    found = detect_format(source)
    if found != kind:
        raise InvalidInput(
            f"{source} is {describe(found)} but the configured database is "
            f"{'SQLite' if kind == SQLITE else 'PostgreSQL'} ({safe_url(url)}); "
            f"restore it into a {'SQLite' if found == SQLITE else 'PostgreSQL'} database"
        )
    if kind == SQLITE:
        sqlite.check_backup(source)
    return kind


def stored_rows(url: str) -> int:
    """Rows in Franchise's tables; 0 for a database that does not exist yet."""
    if backend_of(url) == SQLITE and not sqlite.database_file(url).exists():
        return 0
    engine = make_engine(url)
    try:
        return sum(table_counts(engine).values())
    except OperationalError as exc:
        raise FranchiseError(f"cannot reach {safe_url(url)}: {exc.orig}") from None
    finally:
        engine.dispose()


def table_counts(engine: Engine) -> dict[str, int]:
    """Row count of every Franchise table present in the database."""
    from franchise.models import Base

    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        return {
            table.name: int(conn.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
            if table.name in present
        }


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    if backend_of(url) == POSTGRESQL:
        return make_url(url).render_as_string(hide_password=True)
    return url
