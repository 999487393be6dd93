"""`franchise upgrade` from the oldest schema to the newest with data in place, its refusal
of a newer schema, a second process waiting on the migration lock, and `backup verify`.
Each test has its own committed database (a SQLite file, or a scratch PostgreSQL one)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Numeric,
    Table,
    func,
    select,
    table,
    text,
)
from typer.testing import CliRunner, Result

from franchise.backup.folder import prune
from franchise.cli.context import CliContext
from franchise.db import Database, make_engine
from franchise.errors import InvalidInput
from franchise.migrate import alembic_config, migration_lock
from franchise.ops.readiness import check_ready
from franchise.ops.schema import shipped_revisions
from franchise.settings import Settings
from tests.reliability.faults_support import (
    BACKENDS,
    ROOT,
    scratch_database,
    server_env,
    wait_for,
)

OLDEST = "0001"


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with scratch_database(request.param, tmp_path) as made:
        yield made


def run(url: str, home: Path, *args: str) -> Result:
    from franchise.cli import app

    context = CliContext(_settings=Settings(database_url=url, home=home))
    return CliRunner().invoke(app, list(args), obj=context)


def _migrate_to(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _filler(table: Table, given: dict[str, Any]) -> dict[str, Any]:
    """A row for `table` as it stood at an old revision: the given values, and a plain
    value for every other required column (the test must not depend on today's models)."""
    row = dict(given)
    for column in table.columns:
        if column.name in row or column.nullable or column.primary_key:
            continue
        if column.server_default is not None:
            continue
        kind = column.type
        if isinstance(kind, Boolean):
            row[column.name] = False
        elif isinstance(kind, Integer):
            row[column.name] = 0
        elif isinstance(kind, Numeric):
            row[column.name] = Decimal(0)
        elif isinstance(kind, DateTime) or "DateTime" in type(kind).__name__:
            row[column.name] = datetime(2026, 11, 1, tzinfo=UTC)
        elif isinstance(kind, JSON):
            row[column.name] = []
        else:
            row[column.name] = "x"
    return row


def _old_data(engine: Engine) -> dict[str, int]:
    """Clients, staff and tickets written at the oldest revision."""
    meta = MetaData()
    clients, staff, tickets = (
        Table(name, meta, autoload_with=engine) for name in ("clients", "staff", "tickets")
    )
    with engine.begin() as conn:
        for n in range(3):
            conn.execute(clients.insert(), [_filler(clients, {"id": n + 1, "name": f"Client {n}"})])
        for n in range(2):
            conn.execute(
                staff.insert(),
                [_filler(staff, {"id": n + 1, "email": f"s{n}@old.example", "name": f"S{n}"})],
            )
        for n in range(5):
            ticket = {"id": n + 1, "title": f"Old ticket {n}", "client_id": 1 + n % 3}
            conn.execute(tickets.insert(), [_filler(tickets, ticket)])
    return {"clients": 3, "staff": 2, "tickets": 5}


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: int(conn.scalar(select(func.count()).select_from(table(t))) or 0)
            for t in ("clients", "staff", "tickets")
        }


def test_the_shipped_revisions_read_without_alembic_are_alembic_s_own() -> None:
    # Read from the scripts' revision lines so that a start on a current schema and the
    # readiness probe need not load alembic: the same head and revisions alembic finds.
    scripts = ScriptDirectory.from_config(alembic_config())
    head, known = shipped_revisions()
    assert head == scripts.get_current_head()
    assert known == {script.revision for script in scripts.walk_revisions()}
    assert len(known) > 20


def test_upgrade_takes_the_oldest_schema_to_the_newest_keeping_the_data(
    url: str, tmp_path: Path
) -> None:
    engine = make_engine(url)
    try:
        _migrate_to(engine, OLDEST)
        written = _old_data(engine)
        result = run(url, tmp_path, "upgrade", "--backup-dir", str(tmp_path / "bk"), "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        head, _ = shipped_revisions()
        assert (report["from_revision"], report["to_revision"]) == (OLDEST, head)
        assert report["migrated"] is True
        assert report["schema_checked"] is True
        assert report["starter_library"]["runbooks_total"] >= 1
        assert _counts(engine) == written
        with engine.connect() as conn:
            titles = conn.scalars(text("SELECT title FROM tickets ORDER BY id")).all()
        assert titles == [f"Old ticket {n}" for n in range(5)]
        # The backup was taken before migrating: it holds the old schema and the old rows.
        backup = Path(report["backup"]["file"])
        assert backup.parent == tmp_path / "bk"
        assert f"before-upgrade-{OLDEST}" in backup.name
        again = run(url, tmp_path, "upgrade", "--backup-dir", str(tmp_path / "bk"), "--json")
        assert again.exit_code == 0, again.output
        second = json.loads(again.stdout)
        assert (second["migrated"], second["backup"]) == (False, None)
        assert check_ready(Database(engine))["ready"] is True
    finally:
        engine.dispose()


def test_upgrade_and_every_start_refuse_a_schema_newer_than_the_code(
    url: str, tmp_path: Path
) -> None:
    assert run(url, tmp_path, "upgrade", "--no-backup").exit_code == 0
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        refused = run(url, tmp_path, "upgrade", "--no-backup")
        assert refused.exit_code == 1
        assert "newer than this Franchise knows" in refused.output
        # `init` (and serve and worker, which migrate the same way) refuse it too.
        init = run(url, tmp_path, "init")
        assert init.exit_code == 1
        assert "'9999'" in init.output
        ready = check_ready(Database(engine))
        assert ready["ready"] is False
        assert ready["reasons"] == ["the schema (9999) is newer than this code"]
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "9999"
    finally:
        engine.dispose()


def test_a_second_process_starting_mid_migration_waits_for_it(url: str, tmp_path: Path) -> None:
    engine = make_engine(url)
    try:
        with migration_lock(engine):
            # Someone is migrating (this test holds the lock): readiness says so.
            assert check_ready(Database(engine))["reasons"] == ["a migration is running"]
            second = subprocess.Popen(
                [sys.executable, "-m", "franchise", "upgrade", "--no-backup", "--json"],
                cwd=ROOT,
                env=server_env(url, tmp_path),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            lines: list[str] = []
            assert second.stderr is not None
            reader = threading.Thread(target=lambda: lines.extend(second.stderr), daemon=True)
            reader.start()
            try:
                # It reaches the lock (after starting up, slow on a busy machine) and says so.
                wait_for(lambda: any("waiting for it" in x for x in lines), 120, "the wait")
                time.sleep(1)
                assert second.poll() is None, lines
                assert check_ready(Database(engine))["ready"] is False
            except BaseException:
                second.kill()
                raise
        assert second.wait(timeout=120) == 0, lines
        assert second.stdout is not None
        assert json.loads(second.stdout.read())["to_revision"] == shipped_revisions()[0]
        assert check_ready(Database(engine))["ready"] is True
    finally:
        engine.dispose()


def test_backup_verify_passes_a_good_backup_and_catches_a_truncated_one(
    url: str, tmp_path: Path
) -> None:
    assert run(url, tmp_path, "init").exit_code == 0
    made = run(url, tmp_path, "backup", "--json")
    assert made.exit_code == 0, made.output
    good = Path(json.loads(made.stdout)["file"])
    assert good.parent == tmp_path / "backups"
    verified = run(url, tmp_path, "backup", "verify", str(good), "--json")
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.stdout)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            runbooks = int(conn.scalar(text("SELECT count(*) FROM runbooks")) or 0)
    finally:
        engine.dispose()
    assert runbooks >= 1
    assert report["rows"] >= runbooks
    assert report["schema_revision"] == shipped_revisions()[0]
    cut = tmp_path / "cut.backup"
    data = good.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    caught = run(url, tmp_path, "backup", "verify", str(cut))
    assert caught.exit_code != 0
    assert "cut.backup" in caught.output
    assert any(word in caught.output for word in ("damaged", "cannot be read to the end"))


def _touch(folder: Path, *names: str) -> None:
    for name in names:
        (folder / name).write_bytes(b"x")


def test_retention_keeps_the_newest_scheduled_backups_and_nothing_named_by_hand(
    tmp_path: Path,
) -> None:
    _touch(
        tmp_path,
        "franchise-20261201T023000Z.pgdump",
        "franchise-20261202T023000Z.pgdump",
        "franchise-20261203T023000Z.pgdump",
        "franchise-20261130T010000Z-before-upgrade-0009.pgdump",
        "before-migration.pgdump",
    )
    assert prune(tmp_path, 3) == []
    deleted = prune(tmp_path, 2)
    assert [p.name for p in deleted] == ["franchise-20261201T023000Z.pgdump"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "before-migration.pgdump",
        "franchise-20261130T010000Z-before-upgrade-0009.pgdump",
        "franchise-20261202T023000Z.pgdump",
        "franchise-20261203T023000Z.pgdump",
    ]
    with pytest.raises(InvalidInput):
        prune(tmp_path, 0)


def test_backup_keep_without_a_folder_backup_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'f.sqlite3'}"
    assert run(url, tmp_path, "init").exit_code == 0
    refused = run(url, tmp_path, "backup", str(tmp_path / "one.sqlite3"), "--keep", "2")
    assert refused.exit_code == 2
    assert "leave out FILE" in refused.output


def test_backup_carries_the_note_attachments_and_restore_brings_them_back(
    url: str, tmp_path: Path
) -> None:
    assert run(url, tmp_path, "init").exit_code == 0
    assert run(url, tmp_path, "ticket", "new", "Printer offline").exit_code == 0
    shot = tmp_path / "shot.png"
    shot.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x01" * 64)
    noted = run(url, tmp_path, "ticket", "note", "1", "screen", "--attach", str(shot), "--json")
    assert noted.exit_code == 0, noted.output
    [attached] = json.loads(noted.stdout)["attachments"]
    made = run(url, tmp_path, "backup", str(tmp_path / "b.backup"), "--json")
    assert made.exit_code == 0, made.output
    report = json.loads(made.stdout)
    assert (report["files"], report["files_archive"]) == (1, str(tmp_path / "b.backup.files.tar"))
    verified = run(url, tmp_path, "backup", "verify", str(tmp_path / "b.backup"), "--json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["files"] == 1

    # The machine is lost: a new home, the database restored with its files.
    (tmp_path / "attachments").rename(tmp_path / "lost")
    restored = run(url, tmp_path, "restore", str(tmp_path / "b.backup"), "--yes", "--json")
    assert restored.exit_code == 0, restored.output
    assert json.loads(restored.stdout)["files"] == 1
    [stored] = list((tmp_path / "attachments").iterdir())
    assert stored.read_bytes() == shot.read_bytes()
    shown = run(url, tmp_path, "ticket", "show", "1", "--json")
    assert attached["filename"] in shown.output

    # A damaged files archive fails verification, naming it.
    archive = tmp_path / "b.backup.files.tar"
    archive.write_bytes(archive.read_bytes()[:700])
    caught = run(url, tmp_path, "backup", "verify", str(tmp_path / "b.backup"))
    assert caught.exit_code != 0
    assert "b.backup.files.tar" in caught.output
