"""Group commit of webhook bodies (IntakeWriter), on a database whose data is really committed:
concurrent webhooks share transactions, each request still gets its own answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from franchise.alerts.inbox import Accepted, receive
from franchise.alerts.intake import IntakeWriter
from franchise.alerts.models import InboxItem, Integration
from franchise.alerts.service import TokenCache, add_integration
from franchise.app import create_app
from franchise.db import Database
from franchise.errors import NotAuthenticated, Unavailable
from franchise.settings import Settings
from tests.alerts.committed import BACKENDS, committed_database

T = TypeVar("T")


def in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a new event loop in a thread of its own: the test process's main
    thread may already run a loop (browser tests drive Playwright from it)."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def alert(n: int) -> bytes:
    return json.dumps({"title": f"Disk full {n}", "dedup_key": f"disk-{n}"}).encode()


def new_integration(db: Database) -> str:
    with db.unit_of_work() as session:
        return add_integration(session, kind="generic")[1]


def stored(db: Database) -> dict[int, tuple[int, str, str]]:
    with db.unit_of_work() as session:
        rows = session.execute(
            select(InboxItem.id, InboxItem.integration_id, InboxItem.state, InboxItem.body)
        )
        return {row.id: (row.integration_id, row.state, row.body) for row in rows}


async def submit_all(
    writer: IntakeWriter, requests: list[tuple[str, bytes]]
) -> list[Accepted | BaseException]:
    return await asyncio.gather(
        *(writer.submit("generic", token, receive("generic", raw, {})) for token, raw in requests),
        return_exceptions=True,
    )


def write_all(
    db: Database, requests: list[tuple[str, bytes]], tokens: TokenCache | None = None
) -> tuple[list[Accepted | BaseException], int]:
    """Submit every (token, body) at once through a writer; (outcomes, transactions)."""
    writer = IntakeWriter(db, tokens or TokenCache())
    writer.start()
    try:
        return in_own_loop(submit_all(writer, requests)), writer.batches
    finally:
        writer.stop()


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_webhooks_share_transactions_and_each_gets_its_own_id(
    backend: str, tmp_path: Path
) -> None:
    with committed_database(backend, tmp_path) as (_url, db):
        token = new_integration(db)
        outcomes, batches = write_all(db, [(token, alert(n)) for n in range(300)])
        assert all(isinstance(o, Accepted) for o in outcomes), outcomes
        accepted = [o for o in outcomes if isinstance(o, Accepted)]
        rows = stored(db)
        # Every request's id is the row holding its own body, committed.
        assert len({a.inbox_id for a in accepted}) == 300 == len(rows)
        for n, a in enumerate(accepted):
            assert json.loads(rows[a.inbox_id][2])["dedup_key"] == f"disk-{n}"
            assert rows[a.inbox_id][1:2] == ("pending",)
            assert a.alerts == 1
        # Grouped: far fewer transactions than webhooks.
        assert 1 <= batches < 100


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_bad_token_or_a_row_the_database_refuses_fails_that_webhook_only(
    backend: str, tmp_path: Path
) -> None:
    with committed_database(backend, tmp_path) as (_url, db):
        token = new_integration(db)
        tokens = TokenCache()
        # A token still cached for an integration deleted since: its row breaks the foreign
        # key, and the whole batch's INSERT with it.
        with db.unit_of_work() as session:
            doomed, doomed_token = add_integration(session, kind="generic")
            tokens.put(doomed_token, doomed)
        with db.unit_of_work() as session:
            session.delete(session.get(Integration, doomed.id))
        requests = [(token, alert(n)) for n in range(40)]
        requests[10] = ("frh_not-a-token", alert(10))
        requests[20] = (doomed_token, alert(20))
        if backend == "postgresql":
            requests[30] = (token, b'{"title": "NUL \x00 here"}')  # PostgreSQL text refuses NUL
        outcomes, _ = write_all(db, requests, tokens)
        assert isinstance(outcomes[10], NotAuthenticated)
        assert not isinstance(outcomes[20], Accepted)
        refused = {10, 20} | ({30} if backend == "postgresql" else set())
        if backend == "postgresql":
            assert not isinstance(outcomes[30], Accepted)
        rows = stored(db)
        for n, outcome in enumerate(outcomes):
            if n in refused:
                continue
            assert isinstance(outcome, Accepted), (n, outcome)
            assert json.loads(rows[outcome.inbox_id][2])["dedup_key"] == f"disk-{n}"
        assert len(rows) == len(requests) - len(refused)


@pytest.mark.parametrize("backend", BACKENDS)
def test_stopping_writes_what_waits_and_refuses_what_comes_after(
    backend: str, tmp_path: Path
) -> None:
    with committed_database(backend, tmp_path) as (_url, db):
        token = new_integration(db)
        writer = IntakeWriter(db, TokenCache())
        writer.start()

        async def stop_while_waiting() -> list[Accepted | BaseException]:
            pending = asyncio.ensure_future(
                submit_all(writer, [(token, alert(n)) for n in range(50)])
            )
            for _ in range(3):  # the gather starts, then each of the 50 is queued
                await asyncio.sleep(0)
            await asyncio.get_running_loop().run_in_executor(None, writer.stop)
            return await pending

        outcomes = in_own_loop(stop_while_waiting())
        assert all(isinstance(o, Accepted) for o in outcomes)
        assert len(stored(db)) == 50
        with pytest.raises(Unavailable, match="stopping"):
            in_own_loop(writer.submit("generic", token, receive("generic", alert(99), {})))


@pytest.mark.parametrize("backend", BACKENDS)
def test_too_many_waiting_is_a_503_with_retry_after_and_nothing_half_stored(
    backend: str, tmp_path: Path
) -> None:
    with committed_database(backend, tmp_path) as (url, db):
        token = new_integration(db)
        settings = Settings(home=tmp_path, database_url=url, alerts_inline_worker=False)
        app = create_app(settings, db=db)
        with TestClient(app) as client:
            writer = app.state.alert_intake_writer
            assert isinstance(writer, IntakeWriter)
            ok = client.post(f"/api/v1/hooks/generic/{token}", content=alert(1))
            assert ok.status_code == 202
            assert writer.batches == 1  # the webhook went through the writer
            writer.max_waiting = 0
            busy = client.post(f"/api/v1/hooks/generic/{token}", content=alert(2))
            assert busy.status_code == 503
            assert busy.headers["retry-after"] == "5"
            assert "retry" in busy.json()["error"]
            writer.max_waiting = 100
            bad = client.post("/api/v1/hooks/generic/frh_wrong", content=alert(3))
            assert bad.status_code == 401
        rows = stored(db)
        assert [json.loads(body)["dedup_key"] for _, _, body in rows.values()] == ["disk-1"]
        with db.unit_of_work() as session:
            assert session.scalar(select(func.count()).select_from(InboxItem)) == 1
