"""Database plumbing: the declarative base, the engine and the unit of work."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DataError, StatementError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)
AFTER_COMMIT = "franchise_after_commit"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would otherwise drop the zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # SQLAlchemy reads this class attribute; it is never mutated.
    type_annotation_map = {  # noqa: RUF012
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


# Primary keys are 32-bit integers on PostgreSQL; a larger id cannot name any row.
MAX_ID = 2**31 - 1


def is_unstorable(exc: BaseException) -> bool:
    """A number beyond the database's integer range, or text it cannot store (PostgreSQL
    refuses NUL characters): bad input, not a server fault."""
    if isinstance(exc, DataError | OverflowError):
        return True
    return isinstance(exc, StatementError) and isinstance(exc.orig, ValueError | OverflowError)


def utcnow() -> datetime:
    return datetime.now(UTC)


def normalise_url(url: str) -> str:
    """Accept the plain postgresql:// URLs people copy around and use the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None hands transaction control to SQLAlchemy (the driver's own is
        # broken for SAVEPOINT); BEGIN IMMEDIATE takes the write lock up front, so a busy
        # database makes a writer wait (busy_timeout) instead of failing on lock upgrade.
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web app read while a writer works; busy_timeout makes writers wait, not fail.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def after_commit(session: Session, callback: Callable[[Database], None]) -> None:
    """Run `callback(db)` once the unit of work that owns `session` has committed, outside
    any transaction; if it rolls back, never. For talking to the outside world."""
    session.info.setdefault(AFTER_COMMIT, []).append(callback)


class Turns(Protocol):
    """Who writes first: a unit of work registers with it while it runs (alerts.worker's
    IntakeGate, which the in-process drainer waits on)."""

    def writing(self) -> AbstractContextManager[None]: ...


# Threads whose units of work yield to others (the in-process alert drainer).
_background = threading.local()


@contextmanager
def background_work() -> Iterator[None]:
    """This thread's units of work take no turn: they are what waits for the others."""
    _background.on = True
    try:
        yield
    finally:
        _background.on = False


class Database:
    """Hands out sessions; `unit_of_work()` is the only place that commits."""

    def __init__(self, bind: Engine | Connection) -> None:
        self.bind = bind
        options: dict[str, Any] = {"expire_on_commit": False}
        if isinstance(bind, Connection):
            # Tests bind to a connection inside a transaction that is rolled back at the end.
            options["join_transaction_mode"] = "create_savepoint"
        self._sessions = sessionmaker(bind=bind, **options)
        # Copied into every session's `info`: what the process knows that services may need
        # without every caller passing it along (the settings notifications are sent with).
        self.session_info: dict[str, Any] = {}
        # Set by `franchise serve`: requests' units of work go before the drainer's (on
        # SQLite a transaction holds the one write lock, and its busy handler is not fair).
        self.turns: Turns | None = None

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @property
    def dialect(self) -> str:
        return self.bind.dialect.name

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """Commit (or roll back) the work, then run what was queued with `after_commit`."""
        turn = self.turns
        with nullcontext() if turn is None or getattr(_background, "on", False) else turn.writing():
            session = self._sessions()
            session.info.update(self.session_info)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                callbacks: list[Callable[[Database], None]] = session.info.pop(AFTER_COMMIT, [])
                session.close()
        # Only reached after a commit: a rolled-back unit of work told nobody anything.
        for callback in callbacks:
            try:
                callback(self)
            except Exception:  # the work is saved; a failed follow-up is retried elsewhere
                log.exception("after-commit step failed")

    def dispose(self) -> None:
        if isinstance(self.bind, Engine):
            self.bind.dispose()
