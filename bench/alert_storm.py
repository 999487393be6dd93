"""An alert storm over HTTP against a real `franchise serve`, with three baselines in the run.

    .venv/bin/python bench/alert_storm.py [--alerts 20000] [--sizes 1,50] [--senders 8]
        [--repeat 0.25] [--database-url postgresql://postgres@127.0.0.1:5432/SCRATCH --reset]
        [--workers N] [--drain-timeout 480] [--no-peer] [--group-by alert|group] [--sites N]
    .venv/bin/python bench/alert_storm.py --large-body 10000 [--database-url ...]

For each payload size (alerts per Alertmanager webhook), the same alerts (a quarter of them
repeats of an earlier alert: same labels, same fingerprint) are sent by --senders concurrent
keep-alive HTTP/1.1 connections to:

  franchise      `franchise serve` in a subprocess on a fresh SQLite file (or the scratch
                 PostgreSQL database, whose tables are dropped), with the starter library,
                 300 clients, --endpoints endpoints (the alerts' hosts) and an Alertmanager
                 integration created through the service. The in-process drainer turns the
                 inbox into tickets, or --workers N `franchise worker` processes do
                 (FRANCHISE_ALERTS_INLINE_WORKER=false).
  (a) framework  a bare FastAPI route that reads the body and answers 202, served by the same
                 uvicorn the same way: the framework's limit.
  (b) storage    the same raw inbox rows inserted by executemany in batches of 500 (the storage
                 limit), and one INSERT + COMMIT per row (what a durable 202 must cost at least).
  (c) peer       the real Prometheus Alertmanager on loopback, the same alerts POSTed to its own
                 /api/v2/alerts (a receiver with no notifier, so it sends nothing anywhere).

--large-body N instead posts one webhook of N alerts (FRANCHISE_ALERTS_MAX_PER_BODY raised
to N) to `franchise serve` and, while the drainer applies it, keeps making other requests
one after another: a 1-alert webhook (a write, which needs SQLite's one write lock) and a
ticket list over the API (a read). Reported: their p50/p99/max response times against the
same requests on the idle server just before, and the time the large body took to drain.
Aim: p99 < 100 ms meanwhile (a large body is applied in parts of ~100 ms each).

Every server is started, then left until it is idle (`franchise serve` builds the suggest index in
the background after it starts answering), then stormed.

Reported: accepted alerts/s and requests/s, p50/p99 response time, the server's CPU time per
request (steadier than rates on a shared machine), time until the inbox is
drained (every alert a ticket or a count on its group), exactness (groups == distinct
fingerprints, sum of counts == alerts sent, inbox rows done == requests accepted, tickets ==
groups), and the peak RSS of the Franchise server. Aims: >= 5,000 alerts/s with 50-alert
payloads on SQLite; >= half the bare framework's request rate with 1-alert payloads; server
peak RSS < 250 MB. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    BIN,
    check_empty,
    command_line,
    cpu_seconds,
    dialect_of,
    free_port,
    fresh_database,
    is_postgres,
    p50,
    p99,
    peak_rss_mb,
    wait_for,
    wait_idle,
)
from franchise.alerts.models import InboxItem
from franchise.alerts.service import add_integration
from franchise.bootstrap import initialise
from franchise.clients.models import Client, Endpoint
from franchise.db import normalise_url, utcnow
from franchise.orgsettings.service import set_setting

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
AIM_ALERTS_PER_S_50 = 5000.0
AIM_RSS_MB = 250.0
HEADERS = {"content-type": "application/json", "user-agent": "Alertmanager/0.25.0"}
# (alertname, alert_type, severity, summary) of the alerts an MSP's Prometheus raises.
KINDS = (
    ("DiskSpaceLow", "disk.low_space", "critical", "Disk C: below 5% free"),
    ("HostDown", "rmm.device_offline", "critical", "Host is not reporting"),
    ("BackupFailed", "backup.job_failed", "error", "Nightly backup job failed"),
    ("PatchInstallFailed", "patch.install_failed", "warning", "Windows update failed"),
    ("PrinterOffline", "printer.offline", "warning", "Printer is offline"),
    ("VPNTunnelDown", "vpn.tunnel_down", "critical", "Site-to-site VPN tunnel down"),
    ("AccountLockedOut", "ad.account_locked_out", "warning", "Account locked out"),
    ("MFADenied", "identity.mfa_denied", "warning", "Repeated MFA denials"),
    ("HighCPU", None, "warning", "CPU above 95% for 15 minutes"),
    ("MemoryPressure", None, "warning", "Available memory below 5%"),
)


# ---------------------------------------------------------------------------- payloads


@dataclass
class Storm:
    size: int
    alerts: int
    distinct: int
    franchise_bodies: list[bytes]
    peer_bodies: list[bytes]


def hostnames(clients: int, endpoints: int) -> list[tuple[int, str]]:
    """(client index, hostname) of every endpoint, spread evenly over the clients."""
    return [
        (i % clients, f"c{i % clients:03d}-{'srv' if i % 7 == 0 else 'ws'}{i:05d}")
        for i in range(endpoints)
    ]


# The Alertmanager route's group_by: a webhook body holds the alerts of one notification
# group, as Alertmanager sends them (site only when the storm has sites).
GROUP_BY = ("site", "alertname")


def notifications(
    alerts: list[dict[str, Any]], size: int, group_by: tuple[str, ...] = GROUP_BY
) -> list[list[dict[str, Any]]]:
    """The alerts as Alertmanager would notify them: bodies of at most `size` alerts of one
    notification group each, in the order the groups fill up."""
    bodies: list[list[dict[str, Any]]] = []
    waiting: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for alert in alerts:
        key = tuple(alert["labels"].get(k, "") for k in group_by)
        chunk = waiting.setdefault(key, [])
        chunk.append(alert)
        if len(chunk) == size:
            bodies.append(waiting.pop(key))
    bodies.extend(waiting.values())
    return bodies


def make_storm(
    n: int,
    size: int,
    repeat: float,
    hosts: list[tuple[int, str]],
    seed: int = 7,
    sites: int = 0,
    group_by: tuple[str, ...] = GROUP_BY,
) -> Storm:
    rnd = random.Random(seed)
    distinct = n - round(n * repeat)
    combos = rnd.sample(range(len(hosts) * len(KINDS)), distinct)
    sequence = combos + [rnd.choice(combos) for _ in range(n - distinct)]
    rnd.shuffle(sequence)
    start = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    alerts = []
    for i, combo in enumerate(sequence):
        client, host = hosts[combo // len(KINDS)]
        name, alert_type, severity, summary = KINDS[combo % len(KINDS)]
        labels = {
            "alertname": name,
            "instance": f"{host}:9182",
            "job": "windows",
            "severity": severity,
        }
        if alert_type:
            labels["alert_type"] = alert_type
        if sites:
            labels["site"] = f"site-{client % sites:02d}"
        fingerprint = hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
        alerts.append(
            {
                "status": "firing",
                "labels": labels,
                "annotations": {
                    "summary": summary,
                    "description": f"{summary} on {host} ({name}); raised by the storm bench.",
                },
                "startsAt": (start + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": f"http://prometheus.example:9090/graph?g0.expr=up%7Binstance%3D%22{host}%22%7D",
                "fingerprint": fingerprint,
            }
        )
    franchise_bodies, peer_bodies = [], []
    for chunk in notifications(alerts, size, group_by):
        group_labels = {k: chunk[0]["labels"][k] for k in group_by if k in chunk[0]["labels"]}
        group_key = "{}:{" + ", ".join(f'{k}="{v}"' for k, v in group_labels.items()) + "}"
        franchise_bodies.append(
            json.dumps(
                {
                    "version": "4",
                    "groupKey": group_key,
                    "truncatedAlerts": 0,
                    "status": "firing",
                    "receiver": "franchise",
                    "groupLabels": group_labels,
                    "commonLabels": {"job": "windows", **group_labels},
                    "commonAnnotations": {},
                    "externalURL": "http://alertmanager.example:9093",
                    "alerts": chunk,
                }
            ).encode()
        )
        # Alertmanager's own API takes the alerts as Prometheus posts them.
        peer_bodies.append(
            json.dumps(
                [
                    {k: a[k] for k in ("labels", "annotations", "startsAt", "generatorURL")}
                    for a in chunk
                ]
            ).encode()
        )
    return Storm(size, n, distinct, franchise_bodies, peer_bodies)


# ---------------------------------------------------------------------------- load generator


@dataclass
class Result:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    server_cpu: float = 0.0  # CPU seconds the server used during the storm

    def cpu_ms_per_request(self) -> float:
        return self.server_cpu * 1000 / max(len(self.latencies), 1)

    def count(self, status: int) -> int:
        return self.statuses.get(status, 0)


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("server closed the connection")
    status = int(status_line.split()[1])
    length, chunked = 0, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _sender(
    port: int, path: str, bodies: list[bytes], order: itertools.count[int], result: Result
) -> None:
    """One keep-alive connection posting bodies until none are left (a raw HTTP/1.1 client:
    on two cores, httpx's own CPU would cap the rate before the server does)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items())
    ).encode()
    try:
        for i in order:
            if i >= len(bodies):
                break
            body = bodies[i]
            start = time.perf_counter()
            writer.write(head + b"content-length: %d\r\n\r\n" % len(body) + body)
            status = await _read_response(reader)
            result.latencies.append((time.perf_counter() - start) * 1000)
            result.statuses[status] = result.statuses.get(status, 0) + 1
    finally:
        writer.close()


def storm(port: int, path: str, bodies: list[bytes], senders: int, pid: int) -> Result:
    result = Result()
    cpu_before = cpu_seconds(pid)
    order = itertools.count()

    async def run() -> None:
        await asyncio.gather(*(_sender(port, path, bodies, order, result) for _ in range(senders)))

    start = time.perf_counter()
    asyncio.run(run())
    result.seconds = time.perf_counter() - start
    result.server_cpu = cpu_seconds(pid) - cpu_before
    return result


# ---------------------------------------------------------------------------- processes


class Proc:
    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            args,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        self.log_path = log

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def wait_http(proc: Proc, url: str, what: str) -> None:
    def ready() -> bool:
        if not proc.alive():
            raise SystemExit(f"{what} exited:\n{proc.log_path.read_text()[-3000:]}")
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(ready, what, timeout=90)
    # Measured from a warm, idle server, as a storm would find one that has been running.
    wait_idle(proc.pid, what)


# ---------------------------------------------------------------------------- the runs


def seed(
    url: str, clients: int, hosts: list[tuple[int, str]], group_by: str = "alert", sites: int = 0
) -> str:
    """A fresh database with the starter library, clients, endpoints and the integration."""
    db = fresh_database(url)
    with db.unit_of_work() as session:
        initialise(session)
        conn = session.connection()
        conn.execute(
            insert(Client),
            [
                {"name": f"Client {i:03d}", "tier": "standard", "endpoint_count": 0}
                for i in range(clients)
            ],
        )
        ids = list(conn.scalars(select(Client.id).order_by(Client.id)))
        conn.execute(
            insert(Endpoint),
            [
                {
                    "client_id": ids[c],
                    "hostname": h,
                    "kind": "server" if "srv" in h else "workstation",
                }
                for c, h in hosts
            ],
        )
        _, token = add_integration(
            session, kind="alertmanager", name="Prometheus", group_by=group_by
        )
        # Outage correlation only when the storm has sites to correlate on (--sites): the
        # plain storm measures one ticket per alert group.
        set_setting(session, "outage_alert_groups", 5 if sites else 0)
    db.dispose()
    return token


def inbox_states(engine: Any) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT state, count(*) FROM alert_inbox GROUP BY state"))
        return {str(state): int(n) for state, n in rows}


def run_franchise(
    url: str, home: Path, token: str, s: Storm, args: argparse.Namespace, *, intake_only: bool
) -> dict[str, Any]:
    """The storm against `franchise serve`; then wait until the inbox is drained (unless
    intake_only: no drainer and no workers, to see the 202 path alone)."""
    port = free_port()
    env = {
        "FRANCHISE_HOME": str(home),
        "FRANCHISE_DATABASE_URL": url,
        "FRANCHISE_ALERTS_INLINE_WORKER": "false" if args.workers or intake_only else "true",
    }
    server = Proc(
        [str(BIN / "franchise"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        home / f"serve-{s.size}.log",
        env,
    )
    workers: list[Proc] = []
    engine = create_engine(normalise_url(url))
    try:
        wait_http(server, f"http://127.0.0.1:{port}/api/v1/health", "franchise serve")
        idle_rss = peak_rss_mb(server.pid)
        workers = [
            Proc(
                [str(BIN / "franchise"), "worker", "--poll", "0.2"],
                home / f"worker-{s.size}-{i}.log",
                env,
            )
            for i in range(0 if intake_only else args.workers)
        ]
        path = f"/api/v1/hooks/alertmanager/{token}"
        result = storm(port, path, s.franchise_bodies, args.senders, server.pid)
        sent_at = time.perf_counter() - result.seconds
        deadline = time.monotonic() + (0 if intake_only else args.drain_timeout)
        states = inbox_states(engine)
        while time.monotonic() < deadline:
            states = inbox_states(engine)
            if not states.get("pending") and not states.get("processing"):
                break
            time.sleep(0.2)
        drained = time.perf_counter() - sent_at
        complete = not states.get("pending") and not states.get("processing")
        rss = peak_rss_mb(server.pid)
        worker_rss = [peak_rss_mb(w.pid) or 0.0 for w in workers]
    finally:
        # Stopped before the checks, so that nothing changes while they read.
        for w in workers:
            w.stop()
        server.stop()
    with engine.connect() as conn:
        states = {
            str(st): int(n)
            for st, n in conn.execute(
                text("SELECT state, count(*) FROM alert_inbox GROUP BY state")
            )
        }
        done_alerts, done_keys = 0, set()
        # Done rows, and the part already applied of rows in progress (a large body is
        # applied over several transactions, in dedup-key order, `progress` alerts so far).
        rows = conn.execute(
            text(
                "SELECT body, state, progress FROM alert_inbox "
                "WHERE state = 'done' OR (state = 'processing' AND progress > 0)"
            )
        )
        for body, state, progress in rows:
            document = json.loads(body)
            alerts = document["alerts"]
            if state != "done":
                alerts = sorted(alerts, key=lambda a: a["fingerprint"])[:progress]
            for alert in alerts:
                done_alerts += 1
                # What the integration groups by: a ticket per fingerprint, or per groupKey.
                done_keys.add(
                    alert["fingerprint"] if args.group_by == "alert" else document["groupKey"]
                )
        groups, counts = conn.execute(
            text("SELECT count(*), coalesce(sum(count), 0) FROM alert_groups")
        ).one()
        tickets = conn.scalar(
            text("SELECT count(*) FROM tickets WHERE source = 'alert' AND status != 'closed'")
        )
        outages = conn.scalar(text("SELECT count(*) FROM alert_outages"))
        children = conn.scalar(
            text("SELECT count(*) FROM alert_groups WHERE outage_id IS NOT NULL")
        )
        untriaged = conn.scalar(
            text("SELECT count(*) FROM tickets WHERE source = 'alert' AND client_id IS NULL")
        )
    engine.dispose()
    return {
        "result": result,
        "states": states,
        "drain_s": drained,
        "drained": complete,
        "rss": rss,
        "idle_rss": idle_rss,
        "worker_rss": worker_rss,
        "done_alerts": done_alerts,
        "done_distinct": len(done_keys),
        "groups": int(groups),
        "counts": int(counts),
        "tickets": int(tickets or 0),
        "outages": int(outages or 0),
        "children": int(children or 0),
        "untriaged": int(untriaged or 0),
    }


def _applied(engine: Any, item_id: int) -> int:
    """How many alerts of the large body (inbox item `item_id`) have been applied so far."""
    with engine.connect() as conn:
        state, progress, body = conn.execute(
            text("SELECT state, progress, body FROM alert_inbox WHERE id = :id"), {"id": item_id}
        ).one()
    return len(json.loads(body)["alerts"]) if state == "done" else int(progress)


def run_large_body(url: str, home: Path, args: argparse.Namespace) -> list[str]:
    """One body of --large-body alerts, and other requests' response times meanwhile."""
    from franchise.accounts.service import add_staff, create_token
    from franchise.db import Database

    hosts = hostnames(args.clients, args.endpoints)
    n = args.large_body
    token = seed(url, args.clients, hosts, args.group_by, args.sites)
    db = Database.from_url(normalise_url(url))
    with db.unit_of_work() as session:
        staff = add_staff(
            session, name="Bench", email="bench@example.com", role="owner", level="owner"
        )
        api_token = create_token(session, staff=staff, name="bench")[1]
    db.dispose()
    # One notification group holds them all: a route that groups by job.
    big = make_storm(n, n, 0.0, hosts, sites=args.sites, group_by=("job",)).franchise_bodies[0]
    # Probe alerts: other hosts' alerts in 1-alert bodies (a different seed, so mostly new).
    probes = make_storm(4000, 1, 0.0, hosts, seed=11).franchise_bodies
    port = free_port()
    env = {
        "FRANCHISE_HOME": str(home),
        "FRANCHISE_DATABASE_URL": url,
        "FRANCHISE_ALERTS_INLINE_WORKER": "true",
        "FRANCHISE_ALERTS_MAX_PER_BODY": str(n),
        "FRANCHISE_MAX_BODY_BYTES": str(len(big) + 1_000_000),
    }
    server = Proc(
        [str(BIN / "franchise"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        home / "serve-large.log",
        env,
    )
    engine = create_engine(normalise_url(url))
    base = f"http://127.0.0.1:{port}"
    hook = f"{base}/api/v1/hooks/alertmanager/{token}"
    auth = {"Authorization": f"Bearer {api_token}"}
    probe = iter(probes)

    def one_round(client: httpx.Client, writes: list[float], reads: list[float]) -> None:
        started = time.perf_counter()
        response = client.post(hook, content=next(probe), headers=HEADERS)
        writes.append(time.perf_counter() - started)
        assert response.status_code == 202, response.text
        started = time.perf_counter()
        response = client.get(f"{base}/api/v1/tickets?limit=20", headers=auth)
        reads.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text

    try:
        wait_http(server, f"{base}/api/v1/health", "franchise serve")
        with httpx.Client(timeout=60) as client:
            idle_w: list[float] = []
            idle_r: list[float] = []
            for _ in range(100):
                one_round(client, idle_w, idle_r)
            while True:  # the probes' own alerts drained before the large body goes in
                states = inbox_states(engine)
                if not states.get("pending") and not states.get("processing"):
                    break
                time.sleep(0.1)
            started = time.perf_counter()
            response = client.post(hook, content=big, headers=HEADERS)
            accepted = time.perf_counter() - started
            assert response.status_code == 202, response.text
            busy_w: list[float] = []
            busy_r: list[float] = []
            # Other requests for --probe-seconds (or until the body is applied), then the
            # body is left to drain alone.
            probing = time.monotonic() + args.probe_seconds
            deadline = time.monotonic() + args.drain_timeout
            checked = 0.0
            drained = None
            applied = 0
            while time.monotonic() < deadline:
                if time.monotonic() < probing:
                    one_round(client, busy_w, busy_r)
                    time.sleep(args.probe_gap)
                    if time.monotonic() >= probing:
                        applied = _applied(engine, len(idle_w) + 1)
                        probed_for = time.perf_counter() - started
                else:
                    time.sleep(0.2)
                if time.monotonic() - checked > 0.5:
                    checked = time.monotonic()
                    states = inbox_states(engine)
                    if not states.get("pending") and not states.get("processing"):
                        drained = time.perf_counter() - started
                        if not applied:
                            applied, probed_for = n, drained
                        break
    finally:
        server.stop()
    engine.dispose()
    ms = 1000.0

    def row(name: str, w: list[float], r: list[float]) -> str:
        return (
            f"  {name:<22} webhook p50 {p50(w) * ms:6.1f} p99 {p99(w) * ms:6.1f} "
            f"max {max(w) * ms:7.1f} ms | ticket list p50 {p50(r) * ms:6.1f} "
            f"p99 {p99(r) * ms:6.1f} max {max(r) * ms:7.1f} ms ({len(w)} rounds)"
        )

    print(
        f"\none body of {n} alerts ({len(big) / 1e6:.1f} MB) accepted in {accepted:.2f} s; "
        + (f"drained {drained:.1f} s after it was sent" if drained else "NOT drained in time")
    )
    print(
        f"  while probed ({probed_for:.0f} s): {applied} of its alerts applied "
        f"({applied / probed_for:,.0f} alerts/s with other requests every "
        f"{args.probe_gap * 1000:.0f} ms)"
    )
    print(row("idle server", idle_w, idle_r))
    print(row("while it drains", busy_w, busy_r))
    worst = max(p99(busy_w), p99(busy_r)) * ms
    print(
        f"  p99 while it drains x{worst / (max(p99(idle_w), p99(idle_r)) * ms):.1f} the idle "
        f"p99; aim < 100 ms: {'met' if worst < 100 else 'MISSED'}"
    )
    failures = [] if worst < 100 else [f"p99 during a {n}-alert body {worst:.0f} ms"]
    if drained is None:
        failures.append(f"the {n}-alert body did not drain in {args.drain_timeout:.0f} s")
    return failures


def run_bare(home: Path, s: Storm, senders: int) -> tuple[Result, float | None]:
    port = free_port()
    server = Proc(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(Path(__file__).resolve().parent),
            "_common:bare_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "info",
        ],
        home / f"bare-{s.size}.log",
    )
    try:
        wait_http(server, f"http://127.0.0.1:{port}/api/v1/health", "bare FastAPI")
        result = storm(
            port, "/api/v1/hooks/alertmanager/token", s.franchise_bodies, senders, server.pid
        )
        return result, peak_rss_mb(server.pid)
    finally:
        server.stop()


def run_peer(home: Path, s: Storm, senders: int) -> tuple[Result, float | None] | None:
    binary = shutil.which("prometheus-alertmanager") or ALERTMANAGER
    if not Path(binary).exists():
        return None
    folder = home / f"am-{s.size}"
    folder.mkdir()
    config = folder / "alertmanager.yml"
    # A receiver without notifiers: Alertmanager stores, merges and groups, and sends nothing.
    config.write_text(
        "route:\n  receiver: blackhole\n  group_by: [alertname]\nreceivers:\n  - name: blackhole\n"
    )
    port = free_port()
    proc = Proc(
        [
            binary,
            f"--config.file={config}",
            f"--storage.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        folder / "alertmanager.log",
    )
    try:
        wait_http(proc, f"http://127.0.0.1:{port}/-/ready", "Alertmanager")
        result = storm(port, "/api/v2/alerts", s.peer_bodies, senders, proc.pid)
        return result, peak_rss_mb(proc.pid)
    finally:
        proc.stop()


def run_storage(url: str, s: Storm, single_rows: int) -> tuple[float, float]:
    """(rows/s batched by executemany, rows/s with one transaction per row)."""
    db = fresh_database(url)
    with db.unit_of_work() as session:
        integration_id = add_integration(session, kind="alertmanager")[0].id
    engine = db.bind
    now = utcnow()

    def row(body: bytes) -> dict[str, Any]:
        return {
            "integration_id": integration_id,
            "kind": "alertmanager",
            "received_at": now,
            "headers": {"content-type": "application/json", "remote": "127.0.0.1"},
            "body": body.decode(),
            "alert_count": s.size,
            "state": "pending",
            "attempts": 0,
        }

    rows = [row(b) for b in s.franchise_bodies]
    table = InboxItem.__table__
    start = time.perf_counter()
    for at in range(0, len(rows), 500):
        with engine.begin() as conn:  # type: ignore[union-attr]
            conn.execute(insert(table), rows[at : at + 500])
    batched = len(rows) / (time.perf_counter() - start)
    some = rows[:single_rows]
    start = time.perf_counter()
    for one in some:
        with engine.begin() as conn:  # type: ignore[union-attr]
            conn.execute(insert(table), one)
    single = len(some) / (time.perf_counter() - start)
    db.dispose()
    return batched, single


# ---------------------------------------------------------------------------- report


def line(name: str, r: Result, alerts: int, base_rps: float | None, extra: str = "") -> str:
    rps = len(r.latencies) / r.seconds
    aps = alerts / r.seconds
    rel = f"x{rps / base_rps:.2f}" if base_rps else "  1.00"
    return (
        f"  {name:<30} {aps:9.0f} {rps:9.0f} {rel:>7} {p50(r.latencies):8.2f} "
        f"{p99(r.latencies):8.2f} {r.cpu_ms_per_request():8.3f}  {extra}"
    )


def report(
    s: Storm,
    args: argparse.Namespace,
    dialect: str,
    bare: Result,
    bare_rss: float | None,
    batched: float,
    single: float,
    peer: tuple[Result, float | None] | None,
    intake: dict[str, Any],
    f: dict[str, Any],
) -> list[str]:
    size, n_req = s.size, len(s.franchise_bodies)
    bare_rps = len(bare.latencies) / bare.seconds
    print(
        f"  {'':<30} {'alerts/s':>9} {'req/s':>9} {'x bare':>7} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'CPU ms':>8}  (CPU: server CPU time per request)"
    )
    print(
        line(
            "(a) bare FastAPI",
            bare,
            s.alerts,
            None,
            f"{bare.count(202)}/{n_req} answered 202, peak RSS {bare_rss or 0:.0f} MB",
        )
    )
    if peer is not None:
        print(
            line(
                "(c) Alertmanager /api/v2",
                peer[0],
                s.alerts,
                bare_rps,
                f"peak RSS {peer[1] or 0:.0f} MB",
            )
        )
    print(
        f"  {'(b) storage executemany':<30} {batched * size:9.0f} {batched:9.0f}"
        f"{'':>35}  rows in batches of 500"
    )
    print(
        f"  {'(b) storage 1 row/commit':<30} {single * size:9.0f} {single:9.0f}"
        f"{'':>35}  one INSERT + COMMIT per row"
    )
    for name, run in (("franchise, intake only", intake), ("franchise serve (+processing)", f)):
        r = run["result"]
        accepted = r.count(202)
        print(
            line(
                name,
                r,
                s.alerts * accepted // n_req,
                bare_rps,
                f"{accepted}/{n_req} accepted (202), peak RSS {run['rss']:.0f} MB",
            )
        )
    r = f["result"]
    accepted = r.count(202)
    states = f["states"]
    # Checked against what the processed ("done") inbox rows hold, so a run whose drain was
    # cut short by --drain-timeout is still checked for exactness on what it did.
    expected_sites = len(
        {a["labels"].get("site") for b in s.franchise_bodies for a in json.loads(b)["alerts"]}
    )
    expected = (
        s.distinct
        if args.group_by == "alert"
        else len({json.loads(b)["groupKey"] for b in s.franchise_bodies})
    )
    exact = (
        f["groups"] == f["done_distinct"]
        and f["counts"] == f["done_alerts"]
        # Each group its own ticket, but an outage's children share theirs (tickets opened
        # before an outage began are closed into it, so not counted).
        and f["tickets"] == f["groups"] - f["children"] + f["outages"]
        and (not args.sites or f["outages"] == expected_sites)
        and not states.get("failed")
        and not states.get("rejected")
        and sum(states.values()) == accepted
    )
    if f["drained"]:
        exact = exact and f["done_distinct"] == expected and f["done_alerts"] == s.alerts
        exact = exact and states.get("done", 0) == accepted == n_req
        print(
            f"  inbox drained {f['drain_s']:.1f} s after the first request "
            f"({s.alerts / f['drain_s']:.0f} alerts/s end to end); inbox {states}"
        )
    else:
        rate = f["done_alerts"] / f["drain_s"]
        print(
            f"  inbox NOT drained within --drain-timeout: {f['done_alerts']} of {s.alerts} alerts "
            f"processed in {f['drain_s']:.1f} s ({rate:.0f} alerts/s; all would take "
            f"~{s.alerts / max(rate, 1e-9):.0f} s); inbox {states}"
        )
    print(
        f"  groups {f['groups']} (distinct {args.group_by} keys processed {f['done_distinct']}, "
        f"sent {expected}), sum of counts {f['counts']} (alerts processed {f['done_alerts']}, sent "
        f"{s.alerts}), tickets {f['tickets']} ({f['untriaged']} in triage; "
        f"{f['outages']} outage tickets for {expected_sites if args.sites else 0} sites, "
        f"{f['children']} groups in them), inbox rows "
        f"{sum(states.values())} for {accepted} accepted: {'EXACT' if exact else 'MISMATCH'}"
    )
    workers = (
        f"; workers {', '.join(f'{m:.0f}' for m in f['worker_rss'])} MB" if f["worker_rss"] else ""
    )
    rss = max(f["rss"] or 0, intake["rss"] or 0)
    print(
        f"  franchise serve peak RSS {rss:.0f} MB (idle {f['idle_rss']:.0f} MB){workers}: "
        + ("ok" if rss < AIM_RSS_MB else f"OVER {AIM_RSS_MB:g} MB")
    )
    failures = []
    aps = accepted * size / r.seconds
    rps = accepted / r.seconds
    if size == 50 and dialect == "sqlite" and aps < AIM_ALERTS_PER_S_50:
        failures.append(f"{aps:.0f} alerts/s with 50-alert payloads < {AIM_ALERTS_PER_S_50:g}")
    if size == 1 and rps < bare_rps / 2:
        failures.append(f"1-alert payloads: {rps:.0f} req/s < half of bare {bare_rps:.0f}")
    if bare.count(202) != n_req:
        failures.append(f"size {size}: the bare baseline did not answer 202 to every request")
    if not exact:
        failures.append(f"size {size}: de-duplication or inbox counts not exact")
    if not f["drained"]:
        failures.append(f"size {size}: inbox not drained within {args.drain_timeout:g} s")
    if rss >= AIM_RSS_MB:
        failures.append(f"size {size}: peak RSS {rss:.0f} MB")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--sizes", default="1,50", help="alerts per webhook, comma-separated")
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--repeat", type=float, default=0.25, help="share of repeated alerts")
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--endpoints", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=0, help="franchise worker processes")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--single-rows", type=int, default=2000)
    parser.add_argument("--no-peer", action="store_true", help="skip Alertmanager")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reset", action="store_true", help="drop the tables of --database-url")
    parser.add_argument(
        "--group-by",
        choices=("alert", "group"),
        default="alert",
        help="the integration's grouping: a ticket per fingerprint (the aims' storm) or per "
        "notification group (groupKey)",
    )
    parser.add_argument(
        "--sites",
        type=int,
        default=0,
        help="label each client's alerts with one of N sites and turn outage correlation on "
        "(default 5 groups in 10 minutes): one outage ticket per site is expected",
    )
    parser.add_argument(
        "--large-body",
        type=int,
        default=0,
        help="instead of the storm: one webhook of N alerts, and other requests' response "
        "times while it is applied",
    )
    parser.add_argument("--probe-seconds", type=float, default=60.0)
    parser.add_argument(
        "--probe-gap", type=float, default=0.1, help="seconds between rounds of other requests"
    )
    args = parser.parse_args()
    if args.database_url:
        if not is_postgres(args.database_url):
            sys.exit("--database-url: give a PostgreSQL scratch database (SQLite is the default)")
        check_empty(args.database_url, args.reset)
    sizes = [int(x) for x in args.sizes.split(",")]
    hosts = hostnames(args.clients, args.endpoints)
    dialect = dialect_of(args.database_url or "sqlite://")
    print(f"$ {command_line()}")
    print(
        f"{dialect}: {args.alerts} alerts ({args.repeat:.0%} repeats) per payload size, "
        f"{args.senders} concurrent senders, {os.cpu_count()} CPUs, "
        + (f"{args.workers} franchise worker process(es)" if args.workers else "in-process drainer")
        + f"; load average {os.getloadavg()[0]:.1f} at start"
    )
    failures = []
    if args.large_body:
        print(f"(--large-body: one body of {args.large_body} alerts instead of the storm)")
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite:///{Path(tmp) / 'large.sqlite3'}"
            failures = run_large_body(url, Path(tmp), args)
        print("\n" + ("every aim met" if not failures else "missed: " + "; ".join(failures)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        for size in sizes:
            s = make_storm(args.alerts, size, args.repeat, hosts, sites=args.sites)
            n_req = len(s.franchise_bodies)
            print(
                f"\npayloads of {size} alert(s): {n_req} requests, "
                f"{sum(map(len, s.franchise_bodies)) / n_req / 1024:.1f} KiB each, "
                f"{s.distinct} distinct fingerprints"
            )
            bare, bare_rss = run_bare(home, s, args.senders)
            url = args.database_url or f"sqlite:///{home / f'storage-{size}.sqlite3'}"
            batched, single = run_storage(url, s, min(args.single_rows, n_req))
            peer = None if args.no_peer else run_peer(home, s, args.senders)
            url = args.database_url or f"sqlite:///{home / f'intake-{size}.sqlite3'}"
            token = seed(url, args.clients, hosts, args.group_by, args.sites)
            intake = run_franchise(url, home, token, s, args, intake_only=True)
            url = args.database_url or f"sqlite:///{home / f'storm-{size}.sqlite3'}"
            token = seed(url, args.clients, hosts, args.group_by, args.sites)
            f = run_franchise(url, home, token, s, args, intake_only=False)
            failures += report(s, args, dialect, bare, bare_rss, batched, single, peer, intake, f)
            print(f"  load average after: {os.getloadavg()[0]:.1f}")
    print("\n" + ("every aim met" if not failures else "missed: " + "; ".join(failures)))


if __name__ == "__main__":
    main()
