"""Server time of every main page on the demo MSP, against a trivial route in the same run.

.venv/bin/python bench/pages.py [--requests 50] [--database-url postgresql://...] [--reset]

Loads the starter library and the demo MSP into a fresh SQLite file (or the PostgreSQL
database given, which must be empty unless --reset drops its tables first), signs in as the
demo owner through the real login form, then requests each page N times in process. The time
measured is the application's: from the request entering the ASGI app to the last byte of
the response leaving it (the test client's own overhead is left out). Aim: every page under
100 ms at p95.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from _common import wait_warm
from franchise.app import create_app
from franchise.bootstrap import initialise
from franchise.db import Database, make_engine, utcnow
from franchise.demo.service import load_demo, logins
from franchise.migrate import upgrade
from franchise.runbooks.models import Runbook
from franchise.settings import Settings
from franchise.tickets.models import Ticket

AIM_MS = 100.0
BASELINE = "/api/v1/health"


class ServerTimer:
    """Records how long the wrapped app takes per request, up to the end of the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.last = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()

        async def timed_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last = time.perf_counter() - start

        await self.app(scope, receive, timed_send)


def fresh_database(url: str, reset: bool) -> Database:
    engine = make_engine(url)
    tables = inspect(engine).get_table_names()
    if tables and not reset:
        sys.exit(f"{url} already has {len(tables)} tables; pass --reset to drop them first")
    if tables:
        with engine.begin() as conn:
            for table in tables:
                conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    db = Database(engine)
    upgrade(db)
    return db


def load(db: Database) -> dict[str, Any]:
    start = time.perf_counter()
    with db.unit_of_work() as session:
        initialise(session)
        summary = load_demo(session, seed=7, now=utcnow())
        ticket = session.scalar(
            select(Ticket.id)
            .where(Ticket.runbook_key.is_not(None), Ticket.status != "closed")
            .order_by(Ticket.id.desc())
        )
        runbook = session.scalar(select(Runbook.key).order_by(Runbook.key))
    summary["seconds"] = time.perf_counter() - start
    summary["ticket_id"], summary["runbook"] = ticket, runbook
    return summary


def sign_in(client: TestClient) -> None:
    owner = next(login for login in logins() if login["role"] == "owner")
    form = client.get("/login").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', form)
    if found is None:
        sys.exit("the login form has no CSRF token")
    response = client.post(
        "/login",
        data={"email": owner["email"], "password": owner["password"], "csrf_token": found[1]},
        follow_redirects=False,
    )
    if response.status_code != 303 or "franchise_session" not in client.cookies:
        sys.exit(f"sign-in failed: {response.status_code} {response.text[:200]}")


def measure(client: TestClient, timer: ServerTimer, path: str, n: int) -> tuple[int, list[float]]:
    first = client.get(path, follow_redirects=False)
    if first.status_code == 404 or first.status_code >= 500:
        return first.status_code, []
    for _ in range(3):  # warm-up: template compilation, caches
        client.get(path, follow_redirects=False)
    samples = []
    for _ in range(n):
        client.get(path, follow_redirects=False)
        samples.append(timer.last * 1000)
    return first.status_code, samples


def p95(samples: list[float]) -> float:
    return (
        statistics.quantiles(samples, n=20, method="inclusive")[18]
        if len(samples) > 1
        else samples[0]
    )


def report(
    paths: list[str],
    run: Callable[[str], tuple[int, list[float]]],
) -> bool:
    base = run(BASELINE)
    base_p50 = statistics.median(base[1])
    print(f"{'page':<28} {'status':>6} {'p50 ms':>8} {'p95 ms':>8} {'x base':>7}")
    print(f"{BASELINE:<28} {base[0]:>6} {base_p50:8.2f} {p95(base[1]):8.2f} {'1.0':>7}  (baseline)")
    ok = True
    for path in paths:
        status, samples = run(path)
        if status == 404:
            print(f"{path:<28} {status:>6}  skipped: no such page in this build")
            continue
        if not samples:
            print(f"{path:<28} {status:>6}  skipped: the page fails (a bug to fix first)")
            ok = False
            continue
        p50, high = statistics.median(samples), p95(samples)
        verdict = "ok" if high < AIM_MS else f"OVER {AIM_MS:g} ms"
        ok = ok and high < AIM_MS and status == 200
        print(f"{path:<28} {status:>6} {p50:8.2f} {high:8.2f} {p50 / base_p50:7.1f}  {verdict}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reset", action="store_true", help="drop the tables of --database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        url = args.database_url or f"sqlite:///{Path(home) / 'bench.sqlite3'}"
        db = fresh_database(url, args.reset)
        summary = load(db)
        print(
            f"{db.dialect}: demo MSP loaded in {summary['seconds']:.1f} s "
            f"({summary['tickets']} tickets, {summary['owner_contacts']} owner contacts); "
            f"{args.requests} requests per page"
        )
        app = create_app(Settings(home=Path(home), database_url=url), db=db)
        timer = ServerTimer(app)
        paths = [
            "/queue",
            f"/tickets/{summary['ticket_id']}",
            "/dashboard",
            "/runbooks",
            f"/runbooks/{summary['runbook']}",
            "/escalation",
            "/boundaries",
            "/templates",
            "/staff",
            "/settings",
        ]
        with TestClient(timer, raise_server_exceptions=False) as client:
            wait_warm()
            sign_in(client)
            ok = report(paths, lambda path: measure(client, timer, path, args.requests))
        db.dispose()
    print("every page under the aim" if ok else "some pages missed the aim")


if __name__ == "__main__":
    main()
