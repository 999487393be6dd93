"""Helpers the benchmarks share: fresh databases, percentiles, ports, peak memory.

Not a benchmark itself. Imported by bench/alert_storm.py, bench/scale.py and
bench/suggest_throughput.py (they put bench/ on sys.path first).
"""

from __future__ import annotations

import os
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import inspect, text

from franchise.db import Database, make_engine, normalise_url
from franchise.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def drop_tables(url: str) -> None:
    engine = make_engine(url)
    try:
        tables = inspect(engine).get_table_names()
        with engine.begin() as conn:
            for table in tables:
                conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    finally:
        engine.dispose()


def check_empty(url: str, reset: bool) -> None:
    """Refuse to touch a database that has tables unless --reset says they may be dropped."""
    engine = make_engine(url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables and not reset:
        sys.exit(f"{url} already has {len(tables)} tables; pass --reset to drop them first")


def fresh_database(url: str) -> Database:
    """Drop every table of `url` (a scratch database or a new SQLite file) and migrate."""
    drop_tables(url)
    db = Database(make_engine(url))
    upgrade(db)
    return db


def is_postgres(url: str) -> bool:
    return normalise_url(url).startswith("postgresql")


def dialect_of(url: str) -> str:
    return "postgresql" if is_postgres(url) else "sqlite"


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest-rank on the sorted samples."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def p50(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def p95(samples: list[float]) -> float:
    return percentile(samples, 95)


def p99(samples: list[float]) -> float:
    return percentile(samples, 99)


def peak_rss_mb(pid: int) -> float | None:
    """The peak resident set (VmHWM) of a live process, in MB; psutil is not required."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a live process has used so far (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pid: int, what: str, timeout: float = 90.0) -> None:
    """Wait until a server has finished starting up (under 5% of a CPU for half a second):
    `franchise serve` builds the suggest index in the background after it starts answering."""

    def idle() -> bool:
        before = cpu_seconds(pid)
        time.sleep(0.5)
        return cpu_seconds(pid) - before < 0.025

    wait_for(idle, f"{what} to be idle", timeout=timeout)


def wait_warm(timeout: float = 120.0) -> None:
    """Wait until an in-process app has finished warming up (its "warm-up" thread builds
    the suggest index after start): measured warm, as a server that
    has been running is."""
    wait_for(
        lambda: not any(t.name == "warm-up" for t in threading.enumerate()),
        "the app's warm-up",
        timeout=timeout,
    )


def timed_ms(fn: Callable[[], Any], repeat: int, warmup: int = 2) -> list[float]:
    """Run fn warmup + repeat times; the wall times of the last `repeat` runs, in ms."""
    samples = []
    for i in range(warmup + repeat):
        start = time.perf_counter()
        fn()
        if i >= warmup:
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def ratio(value: float, base: float) -> str:
    return f"x{value / base:.2f}" if base else "x-"


def command_line() -> str:
    """The command that reproduces this run, as typed from the repository root."""
    script = Path(sys.argv[0]).resolve()
    try:
        shown = script.relative_to(ROOT)
    except ValueError:
        shown = script
    return " ".join([".venv/bin/python", str(shown), *sys.argv[1:]])


def bare_app() -> Any:
    """The framework's limit: a FastAPI route that reads the webhook body and answers 202.

    Served by `python -m uvicorn --app-dir bench _common:bare_app --factory`, exactly as
    `franchise serve` serves the real app (same uvicorn, same loop, same log level).
    """
    app = FastAPI()

    @app.get("/api/v1/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/api/v1/hooks/{kind}/{token}", status_code=202)
    async def hook(kind: str, token: str, request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse({"ok": True, "inbox_id": 0, "bytes": len(body)}, status_code=202)

    return app
