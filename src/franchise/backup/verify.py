"""`franchise backup verify FILE`: restore a backup into a scratch database and check that
every row the file holds arrived. A truncated or damaged file fails here, not on the day
it is needed."""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from franchise.backup import postgres, sqlite
from franchise.backup.formats import SQLITE, backend_of, detect_format
from franchise.backup.service import files_archive, table_counts
from franchise.db import make_engine, normalise_url
from franchise.errors import FranchiseError, InvalidInput

# pg_restore's data section: `COPY public.tickets (id, ...) FROM stdin;` ... `\.`
_COPY = re.compile(r"^COPY (?:[\w\"]+\.)?\"?(\w+)\"? \(.*\) FROM stdin;$")


class VerifyFailed(FranchiseError):
    code = "backup_verify_failed"
    status = 500


def verify_backup(url: str, path: Path) -> dict[str, Any]:
    """Count the rows in the file, restore it into a scratch database of the configured
    kind, count again; raise VerifyFailed naming every table that differs."""
    kind = detect_format(path)
    if kind != backend_of(url):
        # A PostgreSQL archive needs a PostgreSQL server to restore into, and vice versa.
        raise InvalidInput(
            f"{path} is a {kind} backup but the configured database is {backend_of(url)}; "
            "verify it where a database of its kind is configured"
        )
    if kind == SQLITE:
        expected, restored, revision = _verify_sqlite(path)
    else:
        from franchise.models import Base

        # Franchise's own tables, as table_counts reads them (alembic_version is not one).
        expected = {t: n for t, n in archive_counts(path).items() if t in Base.metadata.tables}
        with scratch_postgres(url) as scratch:
            postgres.restore(scratch, path)
            engine = make_engine(scratch)
            try:
                restored = table_counts(engine)
                with engine.connect() as conn:
                    revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
            finally:
                engine.dispose()
    differences = {
        table: {"in_file": expected.get(table, 0), "restored": restored.get(table, 0)}
        for table in sorted(set(expected) | set(restored))
        if expected.get(table, 0) != restored.get(table, 0)
    }
    if differences:
        raise VerifyFailed(
            f"{path}: {len(differences)} table(s) restored with other row counts than the "
            "file holds",
            errors=[{"table": t, **c} for t, c in differences.items()],
        )
    if not restored:
        raise VerifyFailed(f"{path} restored no Franchise tables")
    return {
        "files": _check_files(path),
        "file": str(path),
        "backend": kind,
        "schema_revision": revision,
        "tables": len(restored),
        "rows": sum(restored.values()),
        "ok": True,
    }


def _verify_sqlite(path: Path) -> tuple[dict[str, int], dict[str, int], str]:
    revision = sqlite.check_backup(path)  # integrity check: a truncated file stops here
    source = create_engine(f"sqlite:///file:{path.resolve()}?mode=ro&uri=true")
    try:
        expected = table_counts(source)
    finally:
        source.dispose()
    with tempfile.TemporaryDirectory(prefix="franchise-verify-") as folder:
        scratch = f"sqlite:///{Path(folder) / 'scratch.sqlite3'}"
        sqlite.restore(scratch, path)
        engine = create_engine(scratch)
        try:
            restored = table_counts(engine)
        finally:
            engine.dispose()
    return expected, restored, revision


def archive_counts(path: Path) -> dict[str, int]:
    """Rows per table in a pg_dump custom archive, read back through pg_restore: reading
    every data block is what finds a file cut short."""
    binary = shutil.which("pg_restore")
    if binary is None:
        raise postgres.ToolFailed("pg_restore not found on PATH; install postgresql-client")
    # stderr to a file: a pipe left unread while stdout streams could fill and stall it.
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(  # noqa: S603 - fixed binary, arguments built here
            [binary, "--data-only", "--file=-", str(path)],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        assert proc.stdout is not None
        counts = Counter[str]()
        table: str | None = None
        for line in proc.stdout:
            if table is None:
                match = _COPY.match(line.rstrip("\n"))
                if match:
                    table = match.group(1)
                    counts[table] += 0
            elif line == "\\.\n":
                table = None
            else:
                counts[table] += 1
        code = proc.wait()
        errors.seek(0)
        stderr = errors.read()
    if code != 0 or table is not None:
        detail = "; ".join(line for line in stderr.splitlines() if line.strip())[-600:]
        raise VerifyFailed(f"{path} cannot be read to the end: {detail or 'data cut short'}")
    return dict(counts)


@contextmanager
def scratch_postgres(url: str) -> Iterator[str]:
    """An empty database beside the configured one (<name>_verify_<random>), dropped after."""
    parsed = make_url(normalise_url(url))
    name = f"{parsed.database}_verify_{uuid.uuid4().hex[:8]}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _check_files(path: Path) -> int:
    """Read the backup's files archive (note attachments) to the end, if it has one."""
    archive = files_archive(path)
    if not archive.is_file():
        return 0
    try:
        with tarfile.open(archive, "r") as tar:
            count = 0
            for member in tar:
                if member.isfile():
                    handle = tar.extractfile(member)
                    if handle is None or len(handle.read()) != member.size:
                        raise tarfile.ReadError(f"{member.name} is cut short")
                    count += 1
    except (tarfile.TarError, OSError) as exc:
        raise VerifyFailed(f"{archive}: the backup's files are damaged ({exc})") from None
    return count
