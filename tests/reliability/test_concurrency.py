"""Two people at once (issue 7): saving the same runbook or escalation map from the same
revision, and answering the same runbook step. One wins; the other gets a clear conflict
and loses nothing; the stored data has exactly one winner.

Real threads and committed transactions on a fresh SQLite file and a scratch PostgreSQL
database. A rendezvous makes both transactions finish their read before either writes
(the widest race window there is); SQLite's BEGIN IMMEDIATE serialises the transactions
itself, so there the first one waits at the rendezvous in vain and goes on alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff, create_token
from franchise.app import create_app
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.errors import Conflict
from franchise.flows.runs import begin_run, record_answer
from franchise.migrate import upgrade
from franchise.policydocs import service as policydocs
from franchise.policydocs.models import PolicyRevision
from franchise.runbooks import service as runbooks
from franchise.runbooks.models import RunbookRevision, RunStep
from franchise.settings import Settings
from franchise.tickets.service import create_ticket
from tests.reliability.faults_support import BACKENDS, scratch_database

T = TypeVar("T")
RUNBOOK = "vpn-auth-failure"
TITLE = "title: VPN won't connect (authentication failure)"
DEFAULT_REASON = "  reason: No runbook covers this ticket, so L2 may take it;"
# Where each answer to the first step of the VPN runbook leads.
SCOPE = {"Only this user": "client-error", "Several or all users": "vpn-type"}
WAIT = 30.0  # no thread of a race may take longer than this


class Rendezvous:
    """Wraps a function so that its first two calls (one per racer) wait for each other after
    reading, for at most `timeout` seconds; later calls pass straight through. When the
    second transaction cannot get that far (SQLite's write lock, or a row lock) the first
    waits in vain and goes on alone: the race is still real, just serialised."""

    def __init__(self, timeout: float = 1.5) -> None:
        self.barrier = threading.Barrier(2, timeout=timeout)
        self.calls = 0
        self._lock = threading.Lock()

    def wrap(self, fn: Callable[..., T]) -> Callable[..., T]:
        def wrapper(*args: Any, **kwargs: Any) -> T:
            result = fn(*args, **kwargs)
            with self._lock:
                self.calls += 1
                racing = self.calls <= 2
            if racing:
                with suppress(threading.BrokenBarrierError):
                    self.barrier.wait()
            return result

        return wrapper


def race(calls: dict[str, Callable[[], T]]) -> dict[str, T | BaseException]:
    """Run each call in its own thread, started together; return results or exceptions.
    Asserts that the calls really overlapped in time (each began before the other ended)."""
    results: dict[str, T | BaseException] = {}
    spans: dict[str, tuple[float, float]] = {}
    start = threading.Barrier(len(calls))

    def run(name: str, call: Callable[[], T]) -> None:
        start.wait()
        began = time.monotonic()
        try:
            results[name] = call()
        except BaseException as exc:  # handed to the test to assert on
            results[name] = exc
        spans[name] = (began, time.monotonic())

    threads = [threading.Thread(target=run, args=item, daemon=True) for item in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
        assert not thread.is_alive(), "a racing thread hung"
    assert max(b for b, _ in spans.values()) < min(e for _, e in spans.values()), spans
    return results


@dataclass
class Shop:
    """A committed database with the starter library, two managers and two technicians."""

    backend: str
    db: Database
    home: Path
    staff: dict[str, int]
    tokens: dict[str, str]

    def client(self, who: str) -> TestClient:
        # No lifespan (no alert drainer); every request is its own committed transaction.
        app = create_app(Settings(home=self.home), db=self.db)
        client = TestClient(app, raise_server_exceptions=False)
        client.headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return client


@pytest.fixture(params=BACKENDS)
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shop]:
    people = {
        "olivia": ("owner", "owner"),
        "adam": ("admin", "L2"),
        "tina": ("technician", "L1"),
        "theo": ("technician", "L1"),
    }
    with scratch_database(request.param, tmp_path) as url:
        db = Database.from_url(url)
        try:
            upgrade(db)
            staff, tokens = {}, {}
            with db.unit_of_work() as session:
                initialise(session)
                for name, (role, level) in people.items():
                    person = add_staff(
                        session,
                        name=name.title(),
                        email=f"{name}@msp.example",
                        role=role,
                        level=level,
                    )
                    staff[name] = person.id
                    tokens[name] = create_token(session, staff=person, name="race")[1]
            yield Shop(request.param, db, tmp_path, staff, tokens)
        finally:
            db.dispose()


def _response(result: object) -> httpx.Response:
    assert isinstance(result, httpx.Response), repr(result)
    return result


def _split(results: dict[str, object], ok: int) -> tuple[str, str, httpx.Response]:
    """The racer that succeeded, the other one, and the other one's answer."""
    answers = {who: _response(r) for who, r in results.items()}
    won = [who for who, r in answers.items() if r.status_code == ok]
    assert len(won) == 1, {who: (r.status_code, r.text) for who, r in answers.items()}
    loser = next(who for who in answers if who != won[0])
    return won[0], loser, answers[loser]


def _assert_clear_conflict(refusal: httpx.Response, *phrases: str) -> None:
    """Checked last, after the stored data: the second saver is told 409 and why."""
    assert refusal.status_code == 409, (
        f"the second of two racing requests got {refusal.status_code}, not 409: {refusal.text}"
    )
    message = refusal.json()["error"]
    assert all(phrase in message for phrase in phrases), message


# --- runbook and escalation map saved from the same revision --------------------------------


def test_two_people_saving_a_runbook_from_one_revision(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    olivia, adam = shop.client("olivia"), shop.client("adam")
    loaded = {
        who: c.get(f"/api/v1/runbooks/{RUNBOOK}/source").json()
        for who, c in {"olivia": olivia, "adam": adam}.items()
    }
    base = loaded["olivia"]["revision"]
    assert loaded["adam"]["revision"] == base
    texts = {
        who: data["source"].replace(TITLE, f"{TITLE[:-1]}, {who}'s wording)", 1)
        for who, data in loaded.items()
    }
    assert all(text != loaded["olivia"]["source"] for text in texts.values())

    meet = Rendezvous()
    monkeypatch.setattr(runbooks, "current_source", meet.wrap(runbooks.current_source))
    saves = {
        who: {"source": texts[who], "note": f"{who}'s edit", "expected_revision": base}
        for who in texts
    }
    results = race(
        {
            who: partial(client.post, "/api/v1/runbooks", json=saves[who])
            for who, client in {"olivia": olivia, "adam": adam}.items()
        }
    )
    monkeypatch.undo()
    winner, loser, refusal = _split(results, 201)

    # The winner's revision is stored intact, and it is the only new one.
    client = {"olivia": olivia, "adam": adam}[loser]
    current = client.get(f"/api/v1/runbooks/{RUNBOOK}/source").json()
    assert (current["revision"], current["source"]) == (base + 1, texts[winner])
    # The loser reloads and saves their text again: nothing of theirs is lost.
    again = client.post(
        "/api/v1/runbooks",
        json={
            "source": texts[loser],
            "note": "reapplied",
            "expected_revision": current["revision"],
        },
    )
    assert again.status_code == 201 and again.json()["revision"] == base + 2
    kept = client.get(f"/api/v1/runbooks/{RUNBOOK}/source", params={"revision": base + 1}).json()
    assert kept["source"] == texts[winner]
    latest = client.get(f"/api/v1/runbooks/{RUNBOOK}/source").json()
    assert latest["source"] == texts[loser]
    with shop.db.unit_of_work() as session:
        row = runbooks.get_runbook(session, RUNBOOK)
        numbers = session.scalars(
            select(RunbookRevision.number).where(RunbookRevision.runbook_id == row.id)
        ).all()
        assert sorted(numbers) == list(range(1, base + 3))
    _assert_clear_conflict(refusal, f"revision {base + 1}, not {base}", "reload")


def test_two_people_saving_the_escalation_map_from_one_revision(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = {"olivia": shop.client("olivia"), "adam": shop.client("adam")}
    loaded = {who: c.get("/api/v1/escalation/map").json() for who, c in clients.items()}
    base = loaded["olivia"]["revision"]
    assert base >= 1 and loaded["adam"]["revision"] == base
    texts = {
        who: data["source"].replace(DEFAULT_REASON, f"{DEFAULT_REASON[:-1]} ({who} says);", 1)
        for who, data in loaded.items()
    }
    assert all(text != loaded["olivia"]["source"] for text in texts.values())

    meet = Rendezvous()
    monkeypatch.setattr(policydocs, "current", meet.wrap(policydocs.current))
    saves = {
        who: {"source": texts[who], "note": f"{who}'s edit", "expected_revision": base}
        for who in texts
    }
    results = race(
        {
            who: partial(client.put, "/api/v1/escalation/map", json=saves[who])
            for who, client in clients.items()
        }
    )
    monkeypatch.undo()
    winner, loser, refusal = _split(results, 200)
    assert _response(results[winner]).json() == {"revision": base + 1, "changed": True}

    client = clients[loser]
    current = client.get("/api/v1/escalation/map").json()
    assert (current["revision"], current["source"]) == (base + 1, texts[winner])
    again = client.put(
        "/api/v1/escalation/map",
        json={"source": texts[loser], "note": "reapplied", "expected_revision": base + 1},
    )
    assert again.status_code == 200 and again.json() == {"revision": base + 2, "changed": True}
    with shop.db.unit_of_work() as session:
        stored = {r.number: r.source for r in policydocs.revisions(session, "escalation")}
        assert sorted(stored) == list(range(1, base + 3))
        assert stored[base + 1] == texts[winner] and stored[base + 2] == texts[loser]
        assert session.scalar(select(func.count()).select_from(PolicyRevision)) >= base + 2
    _assert_clear_conflict(refusal, f"revision {base + 1}, not {base}", "reload")


# --- two technicians answering the same runbook step ------------------------------------------


def _start_run(shop: Shop) -> int:
    with shop.db.unit_of_work() as session:
        tina = session.get(Staff, shop.staff["tina"])
        ticket = create_ticket(
            session, title="VPN login fails for Sam", body="FortiClient says denied", actor=tina
        )
        run = begin_run(
            session,
            runbooks.get_runbook(session, RUNBOOK),
            ticket=ticket,
            actor=tina,
            inputs={"affected_user": "sam@client.example"},
        )
        assert run.current_step == "scope"
        return run.id


def _assert_one_answer(shop: Shop, run_id: int, winner_reply: str) -> None:
    with shop.db.unit_of_work() as session:
        run = runbooks.get_run(session, run_id)
        steps = runbooks.run_steps(session, run, include_retracted=True)
        assert [(s.step_id, s.answer) for s in steps] == [("scope", winner_reply)]
        assert run.current_step == SCOPE[winner_reply]
        assert session.scalar(select(func.count()).select_from(RunStep)) == 1


def test_two_technicians_answering_one_step_in_two_sessions(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = _start_run(shop)
    replies = {"tina": "Only this user", "theo": "Several or all users"}

    def answer(who: str) -> str:
        with shop.db.unit_of_work() as session:
            actor = session.get(Staff, shop.staff[who])
            run = runbooks.get_run(session, run_id)
            state = record_answer(session, run, step="scope", reply=replies[who], actor=actor)
            return state.current

    meet = Rendezvous()
    monkeypatch.setattr(runbooks, "run_state", meet.wrap(runbooks.run_state))
    results = race({who: partial(answer, who) for who in replies})
    monkeypatch.undo()
    won = [who for who, r in results.items() if isinstance(r, str)]
    assert len(won) == 1, results
    winner, loser = won[0], next(who for who in replies if who != won[0])
    assert results[winner] == SCOPE[replies[winner]]
    _assert_one_answer(shop, run_id, replies[winner])
    refusal = results[loser]
    assert isinstance(refusal, Conflict), f"the second answer raised {refusal!r}, not a Conflict"
    # Before the row lock the loser is told the step was answered; after waiting on it (on
    # PostgreSQL) that the run is now at another step: both name the two steps.
    assert "'scope'" in refusal.message
    assert f"'{SCOPE[replies[winner]]}'" in refusal.message


def test_two_technicians_answering_one_step_through_the_api(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = _start_run(shop)
    replies = {"tina": "Only this user", "theo": "Several or all users"}
    clients = {who: shop.client(who) for who in replies}

    meet = Rendezvous()
    monkeypatch.setattr(runbooks, "run_state", meet.wrap(runbooks.run_state))
    path = f"/api/v1/runs/{run_id}/answers"
    results = race(
        {
            who: partial(client.post, path, json={"step": "scope", "answer": replies[who]})
            for who, client in clients.items()
        }
    )
    monkeypatch.undo()
    winner, _, refusal = _split(results, 200)
    assert _response(results[winner]).json()["next_step"] == SCOPE[replies[winner]]
    _assert_one_answer(shop, run_id, replies[winner])
    _assert_clear_conflict(refusal, "'scope'", f"'{SCOPE[replies[winner]]}'")
