"""Reliability tests use their own committed databases (files and scratch PostgreSQL
databases), not the rolled-back test transaction: backups and fuzzing need real commits."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from franchise.bootstrap import initialise
from franchise.cli import FranchiseGroup
from franchise.cli.context import CliContext
from franchise.db import Database, normalise_url
from franchise.demo.service import load_demo
from franchise.migrate import upgrade
from franchise.settings import Settings
from tests.conftest import PG_URL

# Counted by the tests and printed at the end of the run.
TALLY: Counter[str] = Counter()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TALLY:
        counts = ", ".join(f"{name}: {n}" for name, n in sorted(TALLY.items()))
        terminalreporter.write_line(f"reliability: {counts}")


def _admin_engine() -> Engine:
    url = make_url(normalise_url(PG_URL)).set(database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def scratch_pg() -> Iterator[Callable[[], str]]:
    """Makes empty PostgreSQL databases on the test server; drops them all at the end."""
    admin = _admin_engine()
    made: list[str] = []

    def make() -> str:
        name = f"franchise_rel_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fresh_database_url(
    backend: str, tmp_path_factory: pytest.TempPathFactory, scratch: Callable[[], str] | None
) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('rel') / 'franchise.sqlite3'}"
    assert scratch is not None
    return scratch()


# (backend, demo) -> a database filled once per run that `fill` copies (a SQLite file, or a
# PostgreSQL database used as a template): migrating and loading the demo MSP take seconds.
_FILLED: dict[tuple[str, bool], str] = {}


def pytest_sessionfinish(session: pytest.Session) -> None:
    for (backend, _demo), template in _FILLED.items():
        if backend == "sqlite":
            shutil.rmtree(Path(template).parent, ignore_errors=True)
        else:
            admin = _admin_engine()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
            admin.dispose()
    _FILLED.clear()


def _fill_fresh(url: str, *, demo: bool) -> None:
    db = Database.from_url(url)
    try:
        upgrade(db)
        with db.unit_of_work() as session:
            initialise(session)
            if demo:
                load_demo(session, seed=7)
    finally:
        db.dispose()


def _filled_template(backend: str, demo: bool) -> str:
    """The SQLite file or PostgreSQL database name of the filled copy, made on first use."""
    key = (backend, demo)
    if key not in _FILLED:
        if backend == "sqlite":
            path = Path(tempfile.mkdtemp(prefix="franchise-filled-")) / "filled.sqlite3"
            _fill_fresh(f"sqlite:///{path}", demo=demo)
            _FILLED[key] = str(path)
        else:
            name = f"franchise_filled_{uuid.uuid4().hex[:12]}"
            admin = _admin_engine()
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            _FILLED[key] = name
            _fill_fresh(
                make_url(PG_URL).set(database=name).render_as_string(hide_password=False), demo=demo
            )
    return _FILLED[key]


def fill(url: str, *, demo: bool) -> None:
    """Migrate, load the starter library and (optionally) the demo MSP, and commit: `url`
    becomes a copy of a database filled so once per run (its engine closed, so a SQLite file
    copies whole and PostgreSQL can use it as a template)."""
    target = make_url(normalise_url(url))
    backend = target.get_backend_name()
    template = _filled_template(backend, demo)
    assert target.database
    if backend == "sqlite":
        shutil.copyfile(template, target.database)
        return
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{target.database}" TEMPLATE "{template}"'))
    finally:
        admin.dispose()


def run_cli(url: str, *args: str, input: str | None = None) -> Result:
    """Runs the backup commands in-process against `url`; registered on a bare root so
    the tests do not depend on the root command's wiring."""
    from franchise.cli import backup_cmds

    app = typer.Typer(cls=FranchiseGroup, pretty_exceptions_enable=False)
    backup_cmds.register(app)
    context = CliContext(_settings=Settings(database_url=url))
    return CliRunner().invoke(app, list(args), obj=context, input=input)


@pytest.fixture
def ready_db(db: Database) -> Database:
    """The shared (rolled-back) test database with the starter library loaded."""
    with db.unit_of_work() as session:
        initialise(session)
    return db


@pytest.fixture
def owner_token(ready_db: Database) -> str:
    from franchise.accounts.service import add_staff, create_token

    with ready_db.unit_of_work() as session:
        staff = add_staff(
            session, name="Rel Owner", email="owner@rel.example", role="owner", level="owner"
        )
        return create_token(session, staff=staff, name="reliability")[1]


@pytest.fixture
def api(ready_db: Database, tmp_path: Path, owner_token: str) -> Iterator[TestClient]:
    """The app on the test database, signed in as the owner, with a 64 kB body limit."""
    from franchise.app import create_app

    app = create_app(Settings(home=tmp_path, max_body_bytes=64_000), db=ready_db)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {owner_token}"
        yield client
