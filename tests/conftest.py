"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL when
FRANCHISE_TEST_DATABASE_URL is set; each test runs in a transaction rolled back at the end."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session

from franchise.cli.context import CliContext
from franchise.db import Database, make_engine
from franchise.migrate import upgrade
from franchise.settings import Settings
from tests.support import CliInvoker

PG_URL = os.environ.get("FRANCHISE_TEST_DATABASE_URL", "")
# The tests' notification receivers listen on loopback, which a real install refuses;
# tests/security/test_private_addresses.py checks the refusal with this off.
os.environ.setdefault("FRANCHISE_NOTIFY_ALLOW_PRIVATE", "true")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
# .ci/run sets this: there a run without PostgreSQL is a broken run, not a smaller one.
REQUIRE_POSTGRES = os.environ.get("FRANCHISE_REQUIRE_POSTGRES", "") == "1"


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_POSTGRES and not PG_URL:
        raise pytest.UsageError(
            "FRANCHISE_REQUIRE_POSTGRES=1 but FRANCHISE_TEST_DATABASE_URL is not set: "
            "the PostgreSQL half of the suite would not run"
        )


def pytest_report_header(config: pytest.Config) -> str | None:
    return "databases: SQLite and PostgreSQL (FRANCHISE_TEST_DATABASE_URL)" if PG_URL else None


def pytest_sessionstart(session: pytest.Session) -> None:
    # Written by hand rather than as a report header, which -q hides.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if not PG_URL and reporter is not None:
        reporter.write_line(
            "PostgreSQL NOT CONFIGURED: database tests run on SQLite only and the row-locking "
            "tests are skipped; set FRANCHISE_TEST_DATABASE_URL to run them",
            yellow=True,
            bold=True,
        )


def _reset_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in inspect(conn).get_table_names():
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    else:
        url = PG_URL
    eng = make_engine(url)
    if request.param == "postgresql":
        _reset_postgres(eng)
    upgrade(Database(eng))
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Database]:
    connection = engine.connect()
    transaction = connection.begin()
    try:
        yield Database(connection)
    finally:
        transaction.rollback()
        connection.close()


@pytest.fixture
def own_db(tmp_path: Path) -> Iterator[Database]:
    """A database of its own in a file, bound to an engine as `franchise serve` binds it:
    each unit of work is a transaction of its own, so what one request does inside another
    (on SQLite, waiting for its own write lock) shows as it does in production. The shared
    `db` fixture joins everything into one connection and hides that."""
    db = Database.from_url(f"sqlite:///{tmp_path / 'franchise.sqlite3'}")
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.unit_of_work() as s:
        yield s


@pytest.fixture
def backend(engine: Engine) -> str:
    return engine.dialect.name


@pytest.fixture
def cli(db: Database, tmp_path: Path) -> CliInvoker:
    return CliInvoker(CliContext(_settings=Settings(home=tmp_path), db=db, migrated=True))
