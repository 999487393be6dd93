"""SQLite backups through the online backup API, which copies a consistent snapshot while
the app keeps reading and writing (WAL), unlike copying the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from franchise.errors import InvalidInput, NotFound
from franchise.migrate import alembic_config

# Seconds to wait for a writer to finish before the copy gives up.
BUSY_TIMEOUT = 30


def database_file(url: str) -> Path:
    """The file behind a sqlite:/// URL."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise InvalidInput("an in-memory SQLite database has no file to back up or restore")
    return Path(database)


def backup(url: str, dest: Path) -> None:
    source_path = database_file(url)
    if not source_path.is_file():
        raise NotFound(f"no database at {source_path}; nothing to back up")
    source = sqlite3.connect(source_path, timeout=BUSY_TIMEOUT)
    try:
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
            # One self-contained file: a copy in WAL mode would want a -wal file beside it.
            target.execute("PRAGMA journal_mode=DELETE")
            _require_intact(target, dest)
        finally:
            target.close()
    finally:
        source.close()


def check_backup(path: Path) -> str:
    """Refuse a file that is damaged, not a Franchise database, or from a newer Franchise;
    return its schema revision."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        _require_intact(conn, path)
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError:
            row = None
    finally:
        conn.close()
    if row is None:
        raise InvalidInput(
            f"{path} is a SQLite database but not a Franchise one (no schema version)"
        )
    revision = str(row[0])
    known = {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
    if revision not in known:
        raise InvalidInput(
            f"{path} has schema revision {revision!r}, unknown to this version of Franchise; "
            "upgrade Franchise before restoring it"
        )
    return revision


def restore(url: str, source_path: Path) -> None:
    """Copy a backup that passed `check_backup` over the configured database."""
    target_path = database_file(url)
    if target_path.exists() and target_path.resolve() == source_path.resolve():
        raise InvalidInput(f"{source_path} is the configured database itself")
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        # The busy timeout makes the copy wait for a running writer instead of failing.
        target = sqlite3.connect(target_path, timeout=BUSY_TIMEOUT)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _require_intact(conn: sqlite3.Connection, path: Path) -> None:
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"{path} is damaged: {exc}") from None
    if result is None or result[0] != "ok":
        raise InvalidInput(f"{path} is damaged: {result[0] if result else 'no answer'}")
