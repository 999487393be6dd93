"""Helpers for the fault tests: real servers in subprocesses, throwaway databases and
PostgreSQL clusters, and load generators that record every response.

Everything here is bounded: servers must answer within a timeout, every HTTP request has
one, and every wait loop has a deadline.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from franchise.alerts.models import AlertGroup, InboxItem
from franchise.alerts.worker import TEST_HOLD_ENV
from franchise.db import Database, normalise_url
from franchise.tickets.models import Ticket

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("FRANCHISE_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
HOOK = "/api/v1/hooks/generic"
HEALTH = "/api/v1/health"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(check: Callable[[], bool], timeout: float, what: str, step: float = 0.1) -> float:
    """Poll `check` until it is true; fail naming `what` after `timeout` seconds."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(step)
    return time.monotonic() - start


# --- databases --------------------------------------------------------------------------


@contextmanager
def scratch_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database: a fresh SQLite file, or a database created on the shared test
    PostgreSQL server (FRANCHISE_TEST_DATABASE_URL) and dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'franchise.sqlite3'}"
        return
    assert PG_URL, "FRANCHISE_TEST_DATABASE_URL is not set"
    name = f"franchise_faults_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        make_url(normalise_url(PG_URL)).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def observer(url: str) -> Database:
    """A Database for watching from outside: plain transactions, so on SQLite a look at
    the inbox takes no write lock (the app's engine begins every transaction IMMEDIATE)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return Database(create_engine(url, connect_args={"timeout": 30}))
    return Database(create_engine(url, pool_pre_ping=True))


def server_env(url: str, home: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("FRANCHISE_") or key == "FRANCHISE_TEST_DATABASE_URL"
    }
    env.pop(TEST_HOLD_ENV, None)
    env.update(FRANCHISE_HOME=str(home), FRANCHISE_DATABASE_URL=url, **extra)
    return env


def franchise_cli(url: str, home: Path, *args: str, timeout: float = 120) -> dict[str, Any]:
    """Run `franchise ARGS --json` in a subprocess and return its JSON output."""
    done = subprocess.run(
        [sys.executable, "-m", "franchise", *args, "--json"],
        cwd=ROOT,
        env=server_env(url, home),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"franchise {' '.join(args)} failed:\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@dataclass(frozen=True)
class Tenant:
    """A database made ready with `franchise init`, one generic alert integration and an
    owner with an API token (made through the services, committed)."""

    url: str
    home: Path
    hook_token: str
    api_token: str


def provision(url: str, home: Path) -> Tenant:
    from franchise.accounts.service import add_staff, create_token
    from franchise.alerts.service import add_integration

    franchise_cli(url, home, "init")
    db = Database.from_url(url)
    try:
        with db.unit_of_work() as session:
            _, hook_token = add_integration(session, kind="generic", name="Storm monitor")
            owner = add_staff(
                session,
                name="Fault Owner",
                email="owner@faults.example",
                role="owner",
                level="owner",
            )
            api_token = create_token(session, staff=owner, name="faults")[1]
    finally:
        db.dispose()
    return Tenant(url, home, hook_token, api_token)


# --- the server -------------------------------------------------------------------------


class Server:
    """`python -m uvicorn franchise.app:app_from_env --factory` in a subprocess; restarts
    keep the port, so clients keep their base URL."""

    def __init__(self, tenant: Tenant, log: Path, **env: str) -> None:
        self.tenant = tenant
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = server_env(tenant.url, tenant.home, **env)
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout: float = 60) -> float:
        assert self.proc is None or self.proc.poll() is not None
        self.starts += 1
        with self.log.open("ab") as log:
            log.write(f"\n--- start {self.starts} ---\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "franchise.app:app_from_env",
                    "--factory",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return wait_for(self._healthy, timeout, f"the server on {self.base} to answer")

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"the server exited ({self.proc.returncode}):\n{self.logs()}")
        try:
            return httpx.get(self.base + HEALTH, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown, no lifespan exit, nothing flushed."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-6000:] if self.log.exists() else ""


@contextmanager
def running_server(tenant: Tenant, log: Path, **env: str) -> Iterator[Server]:
    server = Server(tenant, log, **env)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def run_worker_once(tenant: Tenant, lease: float = 1.0) -> dict[str, Any]:
    """`franchise worker --once --lease N`: takes over claims a dead process left behind."""
    return franchise_cli(tenant.url, tenant.home, "worker", "--once", "--lease", str(lease))


# --- a throwaway PostgreSQL cluster --------------------------------------------------------


def postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


class PgCluster:
    """initdb into a temporary folder (as the `postgres` OS user when run as root), trust
    auth, fsync off, on a free port; started and stopped with pg_ctl."""

    def __init__(self) -> None:
        bin_dir = postgres_bin()
        assert bin_dir is not None, "no PostgreSQL binaries under /usr/lib/postgresql"
        self.bin = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="franchise-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.logfile = self.root / "server.log"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/franchise"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/tmp")
        assert done.returncode == 0, f"{' '.join(cmd)}:\n{done.stdout}\n{done.stderr}"
        return done

    def init(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C",
        )
        self.start()
        admin = create_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres",
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE franchise"))
        admin.dispose()

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.logfile),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with suppress(AssertionError, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def pg_cluster() -> Iterator[PgCluster]:
    cluster = PgCluster()
    try:
        cluster.init()
        yield cluster
    finally:
        cluster.destroy()


# --- load ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One request: what was sent, when, and what came back (a status or a transport error)."""

    kind: str
    index: int
    started: float
    ended: float
    status: int | None = None
    retry_after: str | None = None
    error: str | None = None
    inbox_id: int | None = None

    @property
    def seconds(self) -> float:
        return self.ended - self.started


STORM_KEYS = 12


def storm_alert(index: int, keys: int = STORM_KEYS) -> dict[str, Any]:
    """Alert `index`: one of `keys` alert groups, labelled with its request number."""
    key = index % keys
    return {
        "title": f"Storm alert {key}",
        "dedup_key": f"storm-{key}",
        "host": f"SRV-STORM{key:02d}",
        "severity": "warning",
        "labels": {"request": str(index)},
    }


@dataclass
class Recorder:
    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)

    def __len__(self) -> int:
        with self.lock:
            return len(self.outcomes)

    def snapshot(self) -> list[Outcome]:
        with self.lock:
            return list(self.outcomes)


def send(
    client: httpx.Client, kind: str, index: int, method: str, path: str, **kwargs: Any
) -> Outcome:
    started = time.monotonic()
    outcome = Outcome(kind, index, started, started)
    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        outcome.error = type(exc).__name__
    else:
        outcome.status = response.status_code
        outcome.retry_after = response.headers.get("retry-after")
        if response.status_code == 202:
            outcome.inbox_id = int(response.json()["inbox_id"])
    outcome.ended = time.monotonic()
    return outcome


def post_alert(client: httpx.Client, token: str, index: int) -> Outcome:
    return send(client, "alert", index, "POST", f"{HOOK}/{token}", json=storm_alert(index))


class Storm:
    """Threads posting storm alerts numbered from a shared counter until `total` are sent
    or `stop` is set (a thread finishes the request it is in). With `pause_at`, no alert
    from that number on is sent until `resume` is set: a test can be sure some of the storm
    comes after what it does meanwhile, however fast the servers answer."""

    def __init__(
        self,
        base: str,
        token: str,
        *,
        first: int,
        total: int,
        threads: int = 12,
        pause_at: int | None = None,
    ) -> None:
        self.base, self.token = base, token
        self.next, self.end = first, first + total
        self.pause_at = pause_at
        self.recorder = Recorder()
        self.stop = threading.Event()
        self.resume = threading.Event()
        self._counter = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _take(self) -> int | None:
        while True:
            with self._counter:
                if self.stop.is_set() or self.next >= self.end:
                    return None
                if self.pause_at is None or self.next < self.pause_at or self.resume.is_set():
                    self.next += 1
                    return self.next - 1
            self.resume.wait(0.05)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=20) as client:
            while (index := self._take()) is not None:
                self.recorder.add(post_alert(client, self.token, index))

    def start(self) -> Storm:
        for thread in self._threads:
            thread.start()
        return self

    def join(self, timeout: float = 120) -> list[Outcome]:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            assert not thread.is_alive(), "a storm thread hung"
        return self.recorder.snapshot()


# --- checking the inbox -------------------------------------------------------------------


def inbox_states(db: Database) -> dict[str, int]:
    with db.unit_of_work() as session:
        rows = session.execute(select(InboxItem.state, func.count()).group_by(InboxItem.state))
        return {str(state): int(n) for state, n in rows}


def wait_for_drain(db: Database, timeout: float) -> float:
    """Wait until no inbox item is pending or claimed."""

    def drained() -> bool:
        states = inbox_states(db)
        return not states.get("pending") and not states.get("processing")

    return wait_for(drained, timeout, "the alert inbox to drain", step=0.25)


def assert_alerts_processed_once(db: Database, outcomes: list[Outcome]) -> dict[str, int]:
    """Every request answered 202 is an inbox row processed exactly once; rows from requests
    without an answer (cut by a fault) are allowed, but processed once too; alert group counts
    equal the processed rows for their key, and each group has one ticket."""
    alert_outcomes = [o for o in outcomes if o.kind == "alert"]
    accepted = {o.index: o.inbox_id for o in alert_outcomes if o.status == 202}
    unanswered = {o.index for o in alert_outcomes if o.status is None}
    refused = {o.index for o in alert_outcomes if o.status not in (None, 202)}
    with db.unit_of_work() as session:
        items = session.scalars(select(InboxItem).order_by(InboxItem.id)).all()
        not_done = {i.id: (i.state, i.error) for i in items if i.state != "done"}
        assert not not_done, f"inbox items not processed: {not_done}"
        by_request: dict[int, int] = {}
        per_key: dict[str, int] = {}
        for item in items:
            alert = json.loads(item.body)
            request = int(alert["labels"]["request"])
            assert request not in by_request, f"request {request} stored twice"
            by_request[request] = item.id
            per_key[alert["dedup_key"]] = per_key.get(alert["dedup_key"], 0) + 1
        lost = {i: inbox for i, inbox in accepted.items() if by_request.get(i) != inbox}
        assert not lost, f"accepted with 202 but not stored as answered: {lost}"
        stray = set(by_request) - set(accepted)
        assert stray <= unanswered, f"stored though refused: {sorted(stray & refused)}"
        groups = {g.dedup_key: g for g in session.scalars(select(AlertGroup))}
        assert set(groups) == set(per_key)
        counts = {key: g.count for key, g in groups.items()}
        assert counts == per_key, "alert group counts differ from the processed rows"
        tickets = session.scalars(select(Ticket).where(Ticket.source == "alert")).all()
        assert len(tickets) == len(groups), "duplicate (or missing) alert tickets"
        assert {t.id for t in tickets} == {g.ticket_id for g in groups.values()}
        for ticket in tickets:
            group = next(g for g in groups.values() if g.ticket_id == ticket.id)
            assert ticket.custom_fields["alert_count"] == group.count
        retaken = sum(1 for i in items if i.attempts > 1)
    return {
        "accepted": len(accepted),
        "unanswered": len(unanswered),
        "stored_without_answer": len(stray),
        "refused": len(refused),
        "inbox_done": len(items),
        "retaken_claims": retaken,
    }
