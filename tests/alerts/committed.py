"""A database whose data is really committed, for tests with several processes.

SQLite: a fresh file. PostgreSQL: a database created for the test and dropped after it.
Each is a copy of one migrated once per run (migrating takes a second or two).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, make_url, text

from franchise.db import Database, normalise_url
from franchise.migrate import upgrade

PG_URL = os.environ.get("FRANCHISE_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


# backend -> the migrated SQLite file, or the PostgreSQL database used as a template.
_MIGRATED: dict[str, str] = {}


def _admin() -> Engine:
    return create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT")


def _drop_migrated() -> None:
    for backend, template in _MIGRATED.items():
        if backend == "sqlite":
            shutil.rmtree(Path(template).parent, ignore_errors=True)
            continue
        admin = _admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
        admin.dispose()


def _migrated(backend: str) -> str:
    if backend in _MIGRATED:
        return _MIGRATED[backend]
    if not _MIGRATED:
        atexit.register(_drop_migrated)
    if backend == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="franchise-migrated-")) / "migrated.sqlite3"
        url = f"sqlite:///{path}"
        _MIGRATED[backend] = str(path)
    else:
        name = f"franchise_migrated_{uuid.uuid4().hex[:10]}"
        admin = _admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        _MIGRATED[backend] = name
    db = Database.from_url(url)
    try:
        upgrade(db)
    finally:
        # Closed, so the file copies whole and PostgreSQL accepts it as a template.
        db.dispose()
    return _MIGRATED[backend]


@contextmanager
def committed_database(backend: str, tmp_path: Path) -> Iterator[tuple[str, Database]]:
    template = _migrated(backend)
    if backend == "sqlite":
        path = tmp_path / "committed.sqlite3"
        shutil.copyfile(template, path)
        db = Database.from_url(f"sqlite:///{path}")
        try:
            yield f"sqlite:///{path}", db
        finally:
            db.dispose()
        return
    name = f"franchise_alerts_{uuid.uuid4().hex[:10]}"
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    db = Database.from_url(url)
    try:
        yield url, db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
