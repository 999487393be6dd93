"""Which kind of backup a file holds, judged by its first bytes, never by its name."""

from __future__ import annotations

from pathlib import Path

from franchise.errors import InvalidInput, NotFound

SQLITE = "sqlite"
POSTGRESQL = "postgresql"

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
# A plain-SQL pg_dump starts with a comment block naming itself.
PG_PLAIN_MARKER = b"-- PostgreSQL database dump"


def detect_format(path: Path) -> str:
    """`sqlite` or `postgresql` (pg_dump custom format); anything else is refused."""
    if not path.is_file():
        raise NotFound(f"no backup file at {path}")
    with path.open("rb") as handle:
        head = handle.read(256)
    if head.startswith(SQLITE_MAGIC):
        return SQLITE
    if head.startswith(PG_CUSTOM_MAGIC):
        return POSTGRESQL
    if PG_PLAIN_MARKER in head:
        raise InvalidInput(
            f"{path} is a plain-SQL pg_dump; restore it with psql, or make backups with "
            "`franchise backup` (pg_dump custom format)"
        )
    if not head:
        raise InvalidInput(f"{path} is empty: not a Franchise backup")
    raise InvalidInput(
        f"{path} is not a Franchise backup: neither a SQLite database nor a pg_dump "
        "custom-format archive"
    )


def backend_of(url: str) -> str:
    """The backend a database URL points at."""
    if url.startswith("sqlite"):
        return SQLITE
    if url.startswith(("postgresql", "postgres")):
        return POSTGRESQL
    raise InvalidInput(f"unsupported database URL '{url.split(':', 1)[0]}:...'")


def describe(kind: str) -> str:
    return "a SQLite database" if kind == SQLITE else "a PostgreSQL dump (pg_dump custom format)"
