"""`franchise backup` / `franchise restore`: a full round trip loses no record, on SQLite
and on PostgreSQL, and every refusal leaves the database as it was."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, select

from franchise.db import normalise_url
from franchise.models import Base
from tests.conftest import BACKENDS
from tests.reliability.conftest import fill, run_cli

Snapshot = dict[str, list[tuple[Any, ...]]]
FRANCHISE_TABLES = {table.name for table in Base.metadata.sorted_tables}


def new_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest, name: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / name}.sqlite3"
    make: Callable[[], str] = request.getfixturevalue("scratch_pg")
    return make()


def snapshot(url: str) -> Snapshot:
    """Every row of every table in the database, each table ordered by its primary key."""
    engine = create_engine(normalise_url(url))
    try:
        meta = MetaData()
        meta.reflect(engine)
        missing = FRANCHISE_TABLES - set(meta.tables)
        assert missing == set(), f"tables missing from {url}: {missing}"
        out: Snapshot = {}
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                order = list(table.primary_key.columns) or list(table.columns)
                out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
        return out
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def demo_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    url = new_url(kind, tmp_path, request, "source")
    fill(url, demo=True)
    return url


def test_round_trip_keeps_every_row_of_every_table(
    kind: str, demo_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    before = snapshot(demo_url)
    # Real data, not just the starter library: the demo MSP fills the busy tables.
    for table in ("tickets", "ticket_events", "owner_contacts", "runbook_runs", "lessons"):
        assert len(before[table]) > 0, table
    backup_file = tmp_path / "franchise.backup"
    made = run_cli(demo_url, "backup", str(backup_file), "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["bytes"] == backup_file.stat().st_size > 0

    target = new_url(kind, tmp_path, request, "restored")
    restored = run_cli(target, "restore", str(backup_file), "--json")
    assert restored.exit_code == 0, restored.output
    report = json.loads(restored.stdout)
    after = snapshot(target)

    assert after == before
    assert report["rows"] == sum(len(before[name]) for name in FRANCHISE_TABLES)
    lost = sum(len(rows) for rows in before.values()) - sum(len(rows) for rows in after.values())
    assert lost == 0


def test_restore_refuses_a_database_with_data_without_yes(
    kind: str, demo_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    backup_file = tmp_path / "demo.backup"
    made = run_cli(demo_url, "backup", str(backup_file))
    assert made.exit_code == 0
    assert "sealed with" in made.stdout and "secret.key" in made.stdout
    target = new_url(kind, tmp_path, request, "busy")
    fill(target, demo=False)
    before = snapshot(target)

    refused = run_cli(target, "restore", str(backup_file))
    assert refused.exit_code == 1
    assert "--yes" in refused.output and "rows" in refused.output
    assert snapshot(target) == before

    replaced = run_cli(target, "restore", str(backup_file), "--yes", "--json")
    assert replaced.exit_code == 0, replaced.output
    assert json.loads(replaced.stdout)["replaced_rows"] == sum(
        len(before[name]) for name in FRANCHISE_TABLES
    )
    assert snapshot(target) == snapshot(demo_url)


def test_restore_refuses_a_backup_of_the_other_backend(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    target = new_url(kind, tmp_path, request, "target")
    fill(target, demo=False)
    before = snapshot(target)
    wrong = tmp_path / "wrong.backup"
    if kind == "sqlite":
        wrong.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 200)
        expected = (
            "is a PostgreSQL dump (pg_dump custom format) but the configured database is SQLite"
        )
    else:
        sqlite3.connect(wrong).close()
        conn = sqlite3.connect(wrong)
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
        conn.close()
        expected = "is a SQLite database but the configured database is PostgreSQL"
    result = run_cli(target, "restore", str(wrong), "--yes")
    assert result.exit_code == 2
    assert expected in result.output
    assert snapshot(target) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"key: value\n", "neither a SQLite database nor a pg_dump custom-format archive"),
        (b"--\n-- PostgreSQL database dump\n--\n", "plain-SQL pg_dump"),
    ],
)
def test_restore_refuses_a_file_that_is_no_backup(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest, content: bytes, message: str
) -> None:
    target = new_url(kind, tmp_path, request, "target")
    fill(target, demo=False)
    before = snapshot(target)
    bogus = tmp_path / "bogus.backup"
    bogus.write_bytes(content)
    result = run_cli(target, "restore", str(bogus), "--yes")
    assert result.exit_code == 2
    assert message in result.output
    assert snapshot(target) == before


def test_sqlite_restore_refuses_a_damaged_or_foreign_backup(tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    fill(target, demo=False)
    before = snapshot(target)
    good = tmp_path / "good.backup"
    assert run_cli(target, "backup", str(good)).exit_code == 0

    damaged = tmp_path / "damaged.backup"
    data = bytearray(good.read_bytes())
    damaged.write_bytes(bytes(data[: len(data) // 3]))
    result = run_cli(target, "restore", str(damaged), "--yes")
    assert result.exit_code == 2
    assert "damaged" in result.output

    foreign = tmp_path / "foreign.sqlite3"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    result = run_cli(target, "restore", str(foreign), "--yes")
    assert result.exit_code == 2
    assert "not a Franchise one" in result.output
    assert snapshot(target) == before


def test_sqlite_backup_runs_beside_an_open_writer_and_takes_only_committed_rows(
    tmp_path: Path,
) -> None:
    source = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    fill(source, demo=False)
    writer = sqlite3.connect(tmp_path / "live.sqlite3", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "INSERT INTO org_settings (key, value, updated_at) VALUES ('org_name', 'uncommitted', '2026-01-01 00:00:00')"
        )
        result = run_cli(source, "backup", str(tmp_path / "live.backup"))
        assert result.exit_code == 0, result.output
    finally:
        writer.execute("COMMIT")
        writer.close()
    copy = sqlite3.connect(tmp_path / "live.backup")
    try:
        names = copy.execute("SELECT value FROM org_settings").fetchall()
        mode = copy.execute("PRAGMA journal_mode").fetchone()
    finally:
        copy.close()
    assert ("uncommitted",) not in names
    assert mode == ("delete",)


def test_backup_refuses_to_overwrite_without_force(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = new_url(kind, tmp_path, request, "source")
    fill(url, demo=False)
    existing = tmp_path / "keep.backup"
    existing.write_bytes(b"an older backup")
    refused = run_cli(url, "backup", str(existing))
    assert refused.exit_code == 1
    assert "--force" in refused.output
    assert existing.read_bytes() == b"an older backup"
    forced = run_cli(url, "backup", str(existing), "--force")
    assert forced.exit_code == 0, forced.output
    assert existing.read_bytes() != b"an older backup"
    assert not list(tmp_path.glob(".*.partial"))


def test_backup_says_so_when_the_sqlite_database_does_not_exist(tmp_path: Path) -> None:
    result = run_cli(f"sqlite:///{tmp_path / 'none.sqlite3'}", "backup", str(tmp_path / "b"))
    assert result.exit_code == 1
    assert "no database at" in result.output
    assert not (tmp_path / "none.sqlite3").exists()
    assert not (tmp_path / "b").exists()


def test_postgres_backup_names_the_missing_pg_dump(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run_cli(
        "postgresql://postgres@127.0.0.1:5432/nowhere", "backup", str(tmp_path / "pg.backup")
    )
    assert result.exit_code == 1
    assert "pg_dump not found on PATH" in result.output
    assert "postgresql-client" in result.output
    assert not (tmp_path / "pg.backup").exists()


def test_postgres_failure_is_reported_without_the_password(tmp_path: Path) -> None:
    # Port 1 refuses at once; pg_dump's own message comes back, the password does not.
    result = run_cli(
        "postgresql://postgres:s3cret-pw@127.0.0.1:1/nowhere", "backup", str(tmp_path / "x")
    )
    assert result.exit_code == 1
    assert "pg_dump failed" in result.output
    assert "s3cret-pw" not in result.output
    assert not (tmp_path / "x").exists()
