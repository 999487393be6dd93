"""Schema migrations, run from code so `franchise init` and the tests need no alembic.ini.

Every process that migrates (init, serve, worker, upgrade) first takes one lock, so a
second process starting while the first migrates waits for it and then finds nothing to do,
instead of failing half-way through the same DDL: a PostgreSQL advisory lock, or on SQLite
an exclusive lock on a file beside the database. A schema already at the newest revision
is recognised without alembic (ops/schema.py), so a start with nothing to migrate does not
load it.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text

from franchise.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# pg_advisory_lock key: "FRNC" in ASCII. Below 2**32, so pg_locks shows it as objid.
ADVISORY_KEY = 0x46524E43

log = logging.getLogger(__name__)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """What autogenerate compares: not the objects of the ticket queue made in raw SQL, which
    no model describes: the text index (an FTS5 table and its shadow tables on SQLite,
    trigram indexes on PostgreSQL) and the index on the priority rank expression."""
    from franchise.queue.service import PRIORITY_RANK_INDEX
    from franchise.tickets.search import is_index_object

    if type_ not in ("table", "index"):
        return True
    return not (is_index_object(name) or name == PRIORITY_RANK_INDEX)


def alembic_config(url: str = "") -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(db: Database) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there."""
    from franchise.ops.schema import refuse_newer, schema_status

    if isinstance(db.bind, Engine):
        with migration_lock(db.bind), db.bind.begin() as connection:
            status = schema_status(connection)
            # Alembic would fail on an unknown revision with a traceback; say what it means.
            refuse_newer(status)
            if not status.is_current:
                _to_head(connection)
    else:
        _to_head(db.bind)


def _to_head(connection: Connection) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def lock_file(engine: Engine) -> Path | None:
    """The SQLite migration lock file; None for an in-memory database."""
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".migrate-lock")


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Held while migrating; a second holder waits (logging that it does) until released."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            got = conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
            if not got:
                # INFO, not WARNING: shown by `franchise upgrade`; other commands' stderr
                # (a worker's first line is its ready line) stays quiet.
                log.info("another process is migrating the database; waiting for it")
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
            # The lock belongs to the session, not the transaction: end the transaction so
            # the connection holds no snapshot while the migration runs on another one.
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                conn.commit()
        return
    path = lock_file(engine)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("another process is migrating the database; waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migration_running(engine: Engine) -> bool:
    """Whether some process holds the migration lock right now (for readiness)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            held = conn.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND classid = 0 AND objid = :key AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"key": ADVISORY_KEY},
            )
        return bool(held)
    path = lock_file(engine)
    if path is None or not path.exists():
        return False
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False
