"""A database whose data is really committed, for tests with several processes.

SQLite: a fresh file. PostgreSQL: a database created for the test and dropped after it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from franchise.db import Database, normalise_url
from franchise.migrate import upgrade

PG_URL = os.environ.get("FRANCHISE_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@contextmanager
def committed_database(backend: str, tmp_path: Path) -> Iterator[tuple[str, Database]]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'committed.sqlite3'}"
        db = Database.from_url(url)
        try:
            upgrade(db)
            yield url, db
        finally:
            db.dispose()
        return
    name = f"franchise_alerts_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    db = Database.from_url(url)
    try:
        upgrade(db)
        yield url, db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
