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
def session(db: Database) -> Iterator[Session]:
    with db.unit_of_work() as s:
        yield s


@pytest.fixture
def backend(engine: Engine) -> str:
    return engine.dialect.name


@pytest.fixture
def cli(db: Database, tmp_path: Path) -> CliInvoker:
    return CliInvoker(CliContext(_settings=Settings(home=tmp_path), db=db, migrated=True))
