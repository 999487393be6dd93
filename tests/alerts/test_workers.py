"""Workers in separate processes: parallel workers and a worker killed mid-item lose nothing
and do nothing twice, on SQLite and PostgreSQL (real commits, real processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from franchise.alerts.inbox import receive, store
from franchise.alerts.models import AlertGroup, InboxItem, Integration
from franchise.alerts.service import add_integration
from franchise.alerts.worker import TEST_HOLD_ENV
from franchise.db import Database
from franchise.tickets.models import Ticket
from tests.alerts.committed import BACKENDS, committed_database

ROOT = Path(__file__).resolve().parents[2]
SHARED_KEYS = 3


def fill_inbox(db: Database, items: int, integration_id: int | None = None) -> None:
    """Each item: the SHARED_KEYS alerts every item repeats, plus one alert of its own."""
    if integration_id is None:
        with db.unit_of_work() as session:
            integration_id = add_integration(session, kind="generic")[0].id
    for i in range(items):
        alerts = [{"title": f"Shared {k}", "dedup_key": f"shared-{k}"} for k in range(SHARED_KEYS)]
        alerts.append({"title": f"Own {i}", "dedup_key": f"own-{i}"})
        with db.unit_of_work() as session:
            body = json.dumps({"alerts": alerts}).encode()
            store(session, integration_id, receive("generic", body, {}))


def start_worker(
    url: str, home: Path, *args: str, hold: Path | None = None
) -> subprocess.Popen[str]:
    env = {**os.environ, "FRANCHISE_DATABASE_URL": url, "FRANCHISE_HOME": str(home)}
    env.pop(TEST_HOLD_ENV, None)
    if hold is not None:
        env[TEST_HOLD_ENV] = str(hold)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.alerts.run_worker", "worker", "--json", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_processed_exactly_once(db: Database, items: int) -> None:
    with db.unit_of_work() as session:
        states = dict(
            session.execute(select(InboxItem.state, func.count()).group_by(InboxItem.state)).all()
        )
        assert states == {"done": items}
        groups = {g.dedup_key: g for g in session.scalars(select(AlertGroup))}
        assert len(groups) == SHARED_KEYS + items
        for k in range(SHARED_KEYS):
            assert groups[f"shared-{k}"].count == items
        assert all(groups[f"own-{i}"].count == 1 for i in range(items))
        tickets = session.scalars(select(Ticket)).all()
        assert len(tickets) == SHARED_KEYS + items  # one ticket per group, no duplicates
        assert {t.id for t in tickets} == {g.ticket_id for g in groups.values()}
        assert {t.custom_fields["alert_count"] for t in tickets if "Shared" in t.title} == {items}


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_parallel_workers_process_every_item_once(backend: str, tmp_path: Path) -> None:
    items = 30
    with committed_database(backend, tmp_path) as (url, db):
        with db.unit_of_work() as session:
            add_integration(session, kind="generic")
        workers = [start_worker(url, tmp_path, "--batch", "2", "--poll", "0.1") for _ in range(3)]
        try:
            for proc in workers:  # all started and warmed up before the storm arrives
                assert proc.stderr is not None
                assert "ready" in proc.stderr.readline(), proc.communicate()[1]
            fill_inbox(db, items, integration_id=1)
            wait_until_done(db, items)
        finally:
            for proc in workers:
                proc.send_signal(signal.SIGTERM)
        reports = []
        for proc in workers:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            reports.append(json.loads(out))
        assert sum(r["done"] for r in reports) == items
        assert sum(r["alerts"] for r in reports) == items * (SHARED_KEYS + 1)
        assert_processed_exactly_once(db, items)


def wait_until_done(db: Database, items: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with db.unit_of_work() as session:
            done = session.scalar(
                select(func.count()).select_from(InboxItem).where(InboxItem.state == "done")
            )
        if done == items:
            return
        assert time.monotonic() < deadline, f"only {done} of {items} items processed"
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_worker_killed_mid_item_loses_nothing_and_repeats_nothing(
    backend: str, tmp_path: Path
) -> None:
    items = 10
    hold = tmp_path / "holding"
    with committed_database(backend, tmp_path) as (url, db):
        fill_inbox(db, items)
        doomed = start_worker(url, tmp_path, "--once", "--batch", "4", "--lease", "2", hold=hold)
        deadline = time.monotonic() + 30
        while not hold.exists():
            assert doomed.poll() is None, doomed.communicate()[1]
            assert time.monotonic() < deadline, "the worker never reached the test hold"
            time.sleep(0.05)
        held = int(hold.read_text())
        # The worker has applied the item's alerts inside its transaction and sleeps there.
        doomed.send_signal(signal.SIGKILL)
        doomed.communicate(timeout=30)
        with db.unit_of_work() as session:
            claimed = session.scalars(
                select(InboxItem).where(InboxItem.state == "processing").order_by(InboxItem.id)
            ).all()
            assert [i.id for i in claimed] == [1, 2, 3, 4] and held == 1
            assert session.scalar(select(func.count()).select_from(Ticket)) == 0
            assert session.scalar(select(func.count()).select_from(AlertGroup)) == 0
        time.sleep(2.1)  # let the dead worker's claims outlive their lease
        rescuer = start_worker(url, tmp_path, "--once", "--lease", "2")
        out, err = rescuer.communicate(timeout=120)
        assert rescuer.returncode == 0, err
        assert json.loads(out)["done"] == items
        assert_processed_exactly_once(db, items)
        with db.unit_of_work() as session:
            attempts = dict(session.execute(select(InboxItem.id, InboxItem.attempts)).all())
            assert attempts == {i: (2 if i <= 4 else 1) for i in range(1, items + 1)}
            assert session.scalar(select(func.count()).select_from(Integration)) == 1
