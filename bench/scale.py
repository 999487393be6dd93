# ruff: noqa: S608 - the SQL is built from constants of this file, never from input
"""A year of a large MSP: server time of the dashboard, kpi, audit and the ticket queue,
against the bare SQL aggregates they need, measured in the same run.

    .venv/bin/python bench/scale.py [--repeat 20] [--tickets 1000000] [--events 300000]
        [--contacts 50000] [--clients 300] [--endpoints 10000] [--regenerate]
        [--database-url postgresql://postgres@127.0.0.1:5432/SCRATCH --reset] [--only queue]

Data: 300 clients, 10,000 endpoints, 1,000,000 tickets over a year (category, status, level,
priority and source mixes of a real MSP; tickets older than a week are mostly closed), 300,000
history events (status changes, escalations L1 -> L2 -> owner naming their rule), 50,000 owner
contacts (with the review items logging them opens), a drill that ended 20 days ago and 200
lessons. Bulk-loaded through the driver
(sqlite3 executemany; PostgreSQL COPY). On SQLite the file is cached in var/bench/ (keyed by
the sizes), so reruns skip generation; on PostgreSQL a scratch database holding the same data
set is reused, otherwise --reset drops its tables and generates again. Measurements use the
generation time as "now", so a cached data set gives the same answers.

Timed (wall time in this process, fresh session each call, --repeat runs after 2 warm-ups):
  dashboard   franchise.web.dashboard.dashboard_context: everything GET /dashboard computes
              (kpi_report, gather_facts + build_audit, drills, reviews, lessons), no HTML
  kpi         kpi_report(weeks=8), what `franchise kpi --json` prints
  audit       audit(), what `franchise audit --json` prints
  queue       queue.service.find_tickets, a page of 100 as the web queue shows: the default
              (open, newest first), each filter, both orders of each sort (created,
              updated, title, priority), a page 2,001 pages deep (keyset cursor), searches:
              a common word, a middling one (a client's host-name prefix), a two-letter
              term (no trigram: LIKE alone), a ticket number, a host name (rare: without
              the text index the search scans the whole table). Aim: under 100 ms at p95.
Baselines: the minimal SQL (GROUP BY) each needs, written by hand and run bare. Aim: the
dashboard under 300 ms at p95, each queue page under 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine, bindparam, func, insert, inspect, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    ROOT,
    check_empty,
    command_line,
    fresh_database,
    is_postgres,
    p50,
    p95,
    timed_ms,
)
from franchise.accounts.service import add_staff
from franchise.audit.service import audit
from franchise.bootstrap import initialise
from franchise.contacts.models import CHANNELS, OwnerContact
from franchise.contacts.service import kpi_report
from franchise.db import Database, UTCDateTime, make_engine
from franchise.drills.items import open_missing_items
from franchise.drills.models import Drill
from franchise.lessons.models import Lesson
from franchise.migrate import upgrade
from franchise.orgsettings.service import get_config
from franchise.queue.service import PRIORITY_RANK, SORTS, QueueQuery, encode_cursor, find_tickets
from franchise.runbooks.definition import CATEGORIES
from franchise.runbooks.models import Runbook
from franchise.tickets.models import Ticket
from franchise.web.dashboard import dashboard_context

AIM_MS = 300.0
QUEUE_AIM_MS = 100.0
VERSION = 1  # bump when the generator changes, so cached files are not reused
DAY = 86400.0
REASONS = ("approval", "escalation", "customer_communication", "technical_decision", "other")
# A few categories carry most tickets (patching and backup alerts), as in a real MSP.
CATEGORY_WEIGHTS = (9, 16, 14, 6, 5, 8, 12, 10, 7, 3)
SOURCES = (("alert", 40), ("email", 28), ("web", 14), ("import", 12), ("api", 4), ("cli", 2))
PRIORITIES = (("low", 20), ("normal", 55), ("high", 20), ("critical", 5))
OPEN_MIX = (("new", 25), ("in_progress", 35), ("waiting_on_client", 20), ("escalated", 8))
OPEN_MIX += (("waiting_on_approval", 4), ("resolved", 8))
RULES = ("premium-high-after-4-hours", "security-incident", "backup-failed-twice", "vip-user")
PHRASES = {
    "vpn": "VPN will not connect for {u}",
    "patching": "Windows update failed on {h}",
    "backup": "Backup job failed on {h}",
    "mfa": "MFA push not arriving for {u}",
    "email-quarantine": "Email from supplier stuck in quarantine for {u}",
    "account-lockout": "Account locked out: {u}",
    "endpoint-offline": "{h} offline, RMM agent not reporting",
    "disk-space": "Disk C: below 5% free on {h}",
    "printer": "Printer not printing at {h}",
    "onboarding": "New starter: set up {u}",
}


def pick(rnd: random.Random, mix: tuple[tuple[str, int], ...]) -> str:
    return rnd.choices([m[0] for m in mix], [m[1] for m in mix])[0]


# ---------------------------------------------------------------------------- bulk load


class Loader:
    """Rows straight through the driver: sqlite3 executemany, or PostgreSQL COPY."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    def load(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> int:
        raw = self.engine.raw_connection()
        n = 0
        try:
            cur = raw.cursor()
            if self.postgres:
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in rows:
                        copy.write_row(row)
                        n += 1
            else:
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                batch: list[tuple[Any, ...]] = []
                for row in rows:
                    batch.append(tuple(_sqlite(v) for v in row))
                    if len(batch) == 20_000:
                        cur.executemany(sql, batch)
                        n += len(batch)
                        batch = []
                if batch:
                    cur.executemany(sql, batch)
                    n += len(batch)
            raw.commit()
        finally:
            raw.close()
        return n


def _sqlite(value: Any) -> Any:
    # SQLAlchemy's SQLite DateTime storage format (naive UTC, always with microseconds).
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def naive(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)


# ---------------------------------------------------------------------------- generation


def generate(db: Database, args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    rnd = random.Random(11)
    loader = Loader(db.bind)  # type: ignore[arg-type]
    timings: dict[str, float] = {}
    start = time.perf_counter()
    with db.unit_of_work() as session:
        initialise(session)
        owner = add_staff(
            session, name="Olivia Owner", email="owner@bench.example", role="owner", level="owner"
        )
        staff = [owner.id]
        for i in range(16):
            level = "L2" if i < 3 else "L1"
            person = add_staff(
                session,
                name=f"Tech {i}",
                email=f"tech{i}@bench.example",
                role="technician",
                level=level,
            )
            staff.append(person.id)
        owner_id = owner.id
        runbook_ids = list(session.scalars(select(Runbook.id)))
    techs = staff[1:]
    end_ts = now.timestamp()
    year_ts = end_ts - 365 * DAY

    # Clients: sizes skewed (a few large clients, many small ones); explicit ids.
    sizes = [rnd.paretovariate(1.3) for _ in range(args.clients)]
    total = sum(sizes)
    endpoints_of = [max(1, round(args.endpoints * s / total)) for s in sizes]
    tiers = ("essential", "standard", "premium")
    loader.load(
        "clients",
        ("id", "name", "tier", "endpoint_count", "created_at"),
        (
            (i + 1, f"Client {i:03d}", rnd.choice(tiers), endpoints_of[i], naive(year_ts))
            for i in range(args.clients)
        ),
    )
    hosts: list[tuple[int, str]] = []
    for c in range(args.clients):
        for j in range(endpoints_of[c]):
            if len(hosts) < args.endpoints:
                kind = "server" if j % 9 == 0 else "workstation"
                hosts.append((c + 1, f"c{c:03d}-{'srv' if kind == 'server' else 'ws'}{j:04d}"))
    while len(hosts) < args.endpoints:
        c = rnd.randrange(args.clients)
        hosts.append((c + 1, f"c{c:03d}-ws{len(hosts):05d}"))
    loader.load(
        "endpoints",
        ("client_id", "hostname", "kind", "os", "last_seen_at"),
        (
            (c, h, "server" if "srv" in h else "workstation", "Windows 11", naive(end_ts - 600))
            for c, h in hosts
        ),
    )
    timings["clients and endpoints"] = time.perf_counter() - start

    # Tickets: ids in creation order, evenly spread over the year with jitter.
    start = time.perf_counter()
    created = [
        year_ts + (i + rnd.random()) * (end_ts - year_ts) / args.tickets
        for i in range(args.tickets)
    ]
    levels: dict[int, str] = {}

    def tickets() -> Iterator[tuple[Any, ...]]:
        users = ("j.smith", "a.jones", "m.garcia", "l.chen", "reception", "accounts")
        for i, ts in enumerate(created):
            tid = i + 1
            client, host = hosts[rnd.randrange(len(hosts))]
            category = rnd.choices(CATEGORIES, CATEGORY_WEIGHTS)[0] if rnd.random() > 0.08 else None
            age = end_ts - ts
            if age < 7 * DAY:
                status = pick(rnd, OPEN_MIX)
            else:
                r = rnd.random()
                status = "closed" if r < 0.7 else "resolved" if r < 0.985 else "waiting_on_client"
            level = "L1"
            r = rnd.random()
            if r < 0.02:
                level = "owner"
            elif r < 0.10:
                level = "L2"
            if level != "L1":
                levels[tid] = level
            source = pick(rnd, SOURCES)
            title = PHRASES.get(category or "", "Help needed: {u} on {h}").format(
                u=rnd.choice(users), h=host
            )
            done = status in ("resolved", "closed")
            resolved = naive(ts + rnd.uniform(600, 3 * DAY)) if done else None
            yield (
                tid,
                client,
                title,
                f"Reported via {source}. Host {host}.",
                category,
                pick(rnd, PRIORITIES),
                status,
                level,
                rnd.choice(techs),
                source,
                f"PSA-{tid}" if source == "import" else None,
                f"{category}-runbook" if category and rnd.random() < 0.3 else None,
                json.dumps(["alert"] if source == "alert" else []),
                "{}",
                naive(ts),
                naive(ts + 3600),
                naive(ts + rnd.uniform(60, 7200)),
                resolved,
                resolved if status == "closed" else None,
            )

    n_tickets = loader.load(
        "tickets",
        (
            "id",
            "client_id",
            "title",
            "body",
            "category",
            "priority",
            "status",
            "level",
            "assignee_id",
            "source",
            "external_id",
            "runbook_key",
            "tags",
            "custom_fields",
            "created_at",
            "updated_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
        ),
        tickets(),
    )
    timings["tickets"] = time.perf_counter() - start

    # History: escalations of the L2 and owner tickets (naming the rule), then status
    # changes of random tickets, up to --events.
    start = time.perf_counter()

    def events() -> Iterator[tuple[Any, ...]]:
        n = 0
        for tid, level in levels.items():
            ts = created[tid - 1]
            rule = rnd.choice(RULES)
            yield (tid, naive(ts + 1800), rnd.choice(techs), "changed", "level", "L1", "L2",
                   f"escalated (rule {rule})")  # fmt: skip
            n += 1
            if level == "owner":
                yield (tid, naive(ts + 4 * 3600), None, "changed", "level", "L2", "owner",
                       f"escalated (rule {rule})")  # fmt: skip
                yield (tid, naive(ts + 9 * 3600), owner_id, "changed", "status", "escalated",
                       "resolved", None)  # fmt: skip
                n += 2
            if n >= args.events:
                return
        while n < args.events:
            tid = rnd.randrange(1, n_tickets + 1)
            ts = created[tid - 1]
            yield (tid, naive(ts + rnd.uniform(300, DAY)), rnd.choice(techs), "changed",
                   "status", "new", "in_progress", None)  # fmt: skip
            n += 1

    n_events = loader.load(
        "ticket_events",
        ("ticket_id", "at", "actor_id", "kind", "field", "old_value", "new_value", "note"),
        events(),
    )
    timings["events"] = time.perf_counter() - start

    # Owner contacts: spread over the year, each about a ticket opened shortly before.
    start = time.perf_counter()
    per_ticket = (end_ts - year_ts) / n_tickets

    def contacts() -> Iterator[tuple[Any, ...]]:
        for _ in range(args.contacts):
            ts = rnd.uniform(year_ts + DAY, end_ts - 60)
            index = int((ts - year_ts) / per_ticket) - rnd.randint(0, 400)
            tid = max(1, min(n_tickets, index + 1)) if rnd.random() < 0.85 else None
            at = naive(ts)
            yield (
                at,
                rnd.choice(CHANNELS),
                tid,
                rnd.choice(techs),
                rnd.choices(REASONS, (30, 25, 20, 15, 10))[0],
                rnd.random() < 0.03,
                rnd.randint(1, 30),
                rnd.choices(("interruption", "deflection", "refused"), (6, 3, 1))[0],
                rnd.random() < 0.15,
                at,
            )

    n_contacts = loader.load(
        "owner_contacts",
        (
            "occurred_at",
            "channel",
            "ticket_id",
            "staff_id",
            "reason",
            "emergency",
            "minutes",
            "outcome",
            "after_hours",
            "created_at",
        ),
        contacts(),
    )
    with db.unit_of_work() as session:
        conn = session.connection()
        drill_start = now - timedelta(days=20)
        conn.execute(
            insert(Drill),
            [
                {
                    "starts_at": drill_start,
                    "ends_at": drill_start + timedelta(days=3),
                    "created_by_id": owner_id,
                    "created_at": drill_start,
                }
            ],
        )
        drill_id = conn.scalar(select(func.max(Drill.id)))
        conn.execute(
            update(OwnerContact)
            .where(OwnerContact.occurred_at >= drill_start)
            .where(OwnerContact.occurred_at < drill_start + timedelta(days=3))
            .values(drill_id=drill_id)
        )
        # log_contact opens each contact's review item; bulk-loaded contacts get theirs here.
        open_missing_items(session, get_config(session).tz)
        conn.execute(
            insert(Lesson),
            [
                {
                    "ticket_id": n_tickets - i * 37,
                    "runbook_id": runbook_ids[i % len(runbook_ids)],
                    "text": f"Lesson {i}",
                    "state": "pending" if i % 3 else "applied",
                    "created_at": now - timedelta(days=i % 40),
                    "applied_at": None
                    if i % 3
                    else now - timedelta(days=i % 40) + timedelta(hours=5),
                }
                for i in range(200)
            ],
        )
        if db.dialect == "postgresql":
            for table in ("clients", "tickets"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                    )
                )
    timings["contacts, drill, lessons"] = time.perf_counter() - start
    start = time.perf_counter()
    analyse(db)
    timings["ANALYZE"] = time.perf_counter() - start
    return {
        "owner_id": owner_id,
        "tickets": n_tickets,
        "events": n_events,
        "contacts": n_contacts,
        "timings": timings,
    }


def analyse(db: Database) -> None:
    if db.dialect == "sqlite":
        with db.bind.connect() as conn:  # type: ignore[union-attr]
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    else:
        raw = db.bind.raw_connection()  # type: ignore[union-attr]
        try:
            driver = raw.driver_connection
            driver.autocommit = True  # type: ignore[union-attr]
            driver.execute("VACUUM ANALYZE")  # type: ignore[union-attr]
            driver.autocommit = False  # type: ignore[union-attr]
        finally:
            raw.close()


# ---------------------------------------------------------------------------- cache


META = "bench_scale_meta"


def data_key(args: argparse.Namespace) -> str:
    return (
        f"v{VERSION}-c{args.clients}-e{args.endpoints}-t{args.tickets}-h{args.events}"
        f"-o{args.contacts}"
    )


def read_meta(engine: Engine, key: str) -> dict[str, Any] | None:
    if META not in inspect(engine).get_table_names():
        return None
    with engine.connect() as conn:
        row = conn.execute(text(f"SELECT value FROM {META} WHERE key = :k"), {"k": key}).first()
    return json.loads(row[0]) if row else None


def write_meta(engine: Engine, key: str, meta: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE IF NOT EXISTS {META} (key TEXT PRIMARY KEY, value TEXT)"))
        conn.execute(text(f"DELETE FROM {META}"))
        conn.execute(
            text(f"INSERT INTO {META} (key, value) VALUES (:k, :v)"),
            {"k": key, "v": json.dumps(meta)},
        )


def schema_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def open_data(args: argparse.Namespace) -> tuple[Database, dict[str, Any], bool]:
    """The data set: reused when cached with the same sizes, else generated."""
    key = data_key(args)
    if args.database_url:
        url = args.database_url
    else:
        folder = ROOT / "var" / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / f'scale-{key}.sqlite3'}"
    engine = make_engine(url)
    meta = None if args.regenerate else read_meta(engine, key)
    if meta is not None:
        db = Database(engine)
        before = schema_revision(engine)
        upgrade(db)
        if schema_revision(engine) != before:
            # New indexes have no planner statistics yet; generation ends with ANALYZE too.
            analyse(db)
        return db, meta, True
    engine.dispose()
    if is_postgres(url):
        check_empty(url, args.reset or args.regenerate)
    else:
        Path(url.split("///", 1)[1]).unlink(missing_ok=True)
    db = fresh_database(url)
    now = datetime.now(UTC).replace(microsecond=0)
    start = time.perf_counter()
    meta = generate(db, args, now)
    meta["seconds"] = time.perf_counter() - start
    meta["now"] = now.isoformat()
    write_meta(db.bind, key, meta)  # type: ignore[arg-type]
    return db, meta, False


# ---------------------------------------------------------------------------- baselines


def week_bucket(dialect: str) -> str:
    if dialect == "postgresql":
        return "floor(extract(epoch FROM (c.occurred_at - :since)) / 604800)"
    return "CAST((julianday(c.occurred_at) - julianday(:since)) / 7 AS INTEGER)"


def kpi_sql(dialect: str) -> list[str]:
    """Counts per week and outcome, the five breakdowns, and the owner-wait events."""
    window = "c.occurred_at >= :since AND c.occurred_at <= :now"
    interrupt = f"c.outcome = 'interruption' AND {window}"
    return [
        f"""SELECT {week_bucket(dialect)} AS week, c.outcome, count(*), sum(c.minutes),
                   sum(CASE WHEN c.after_hours THEN 1 ELSE 0 END)
            FROM owner_contacts c WHERE {window} GROUP BY week, c.outcome""",
        f"SELECT c.reason, count(*) FROM owner_contacts c WHERE {interrupt} GROUP BY c.reason",
        f"SELECT c.channel, count(*) FROM owner_contacts c WHERE {interrupt} GROUP BY c.channel",
        f"""SELECT s.name, count(*) FROM owner_contacts c JOIN staff s ON s.id = c.staff_id
            WHERE {interrupt} GROUP BY s.name""",
        f"""SELECT cl.name, count(*) FROM owner_contacts c JOIN tickets t ON t.id = c.ticket_id
            JOIN clients cl ON cl.id = t.client_id WHERE {interrupt} GROUP BY cl.name""",
        f"""SELECT t.category, count(*) FROM owner_contacts c JOIN tickets t ON t.id = c.ticket_id
            WHERE {interrupt} GROUP BY t.category""",
        """SELECT ticket_id, at, field, new_value FROM ticket_events
           WHERE ticket_id IN (SELECT ticket_id FROM ticket_events
                               WHERE field = 'level' AND new_value = 'owner' AND at >= :since)
             AND field IN ('level', 'status') ORDER BY ticket_id, at, id""",
    ]


def audit_sql() -> list[str]:
    interrupt = "c.outcome = 'interruption' AND c.occurred_at >= :since28 AND c.occurred_at <= :now"
    return [
        """SELECT count(*) FROM owner_contacts WHERE outcome = 'interruption'
           AND occurred_at >= :since4w AND occurred_at < :now""",
        """SELECT category, count(*) FROM tickets WHERE created_at >= :since56
           AND created_at <= :now AND category IS NOT NULL GROUP BY category""",
        f"SELECT c.reason, count(*) FROM owner_contacts c WHERE {interrupt} GROUP BY c.reason",
        f"""SELECT t.category, t.status, c.reason, count(*) FROM owner_contacts c
            JOIN tickets t ON t.id = c.ticket_id WHERE {interrupt}
            GROUP BY t.category, t.status, c.reason""",
        f"""SELECT e.note, count(DISTINCT e.ticket_id) FROM ticket_events e
            WHERE e.field = 'level' AND e.ticket_id IN (SELECT c.ticket_id FROM owner_contacts c
              WHERE {interrupt} AND c.reason = 'escalation') GROUP BY e.note""",
        "SELECT key, category, status, updated_at FROM runbooks WHERE status != 'archived'",
        """SELECT state, count(*) FROM lessons WHERE created_at >= :since56 GROUP BY state""",
    ]


QUEUE_LIMIT = 100  # the web queue's page
OPEN = "status NOT IN ('resolved', 'closed')"
# (name, QueueQuery fields, WHERE of the bare query, ORDER BY of the bare query). The web
# queue's default is open tickets, newest first.
QUEUES: list[tuple[str, dict[str, Any], str, str]] = [
    ("first page (open)", {}, f"WHERE {OPEN}", "created_at DESC, id DESC"),
    ("any status", {"status": "any"}, "", "created_at DESC, id DESC"),
    ("status filter", {"status": "new"}, "WHERE status = 'new'", "created_at DESC, id DESC"),
    (
        "status + category",
        {"status": "in_progress", "category": "printer"},
        "WHERE status = 'in_progress' AND category = 'printer'",
        "created_at DESC, id DESC",
    ),
    ("client", {"client": 7}, f"WHERE {OPEN} AND client_id = 7", "created_at DESC, id DESC"),
    (
        "assignee",
        {"assignee": "ASSIGNEE"},
        f"WHERE {OPEN} AND assignee_id = ASSIGNEE",
        "created_at DESC, id DESC",
    ),
    (
        "level owner",
        {"level": "owner"},
        f"WHERE {OPEN} AND level = 'owner'",
        "created_at DESC, id DESC",
    ),
    (
        "priority critical",
        {"priority": "critical"},
        f"WHERE {OPEN} AND priority = 'critical'",
        "created_at DESC, id DESC",
    ),
    ("oldest open first", {"sort": "created"}, f"WHERE {OPEN}", "created_at, id"),
    ("recently updated", {"sort": "-updated", "status": "any"}, "", "updated_at DESC, id DESC"),
    ("by title (open)", {"sort": "title"}, f"WHERE {OPEN}", "title, id"),
    ("by title, any status", {"sort": "-title", "status": "any"}, "", "title DESC, id DESC"),
    ("by priority (open)", {"sort": "-priority"}, f"WHERE {OPEN}", "RANK DESC, id DESC"),
    ("by priority, any status", {"sort": "priority", "status": "any"}, "", "RANK, id"),
    (
        "search 'quarantine'",
        {"q": "quarantine", "status": "any"},
        "WHERE lower(title) LIKE '%quarantine%' OR lower(body) LIKE '%quarantine%'",
        "created_at DESC, id DESC",
    ),
    (
        # The host-name prefix of one client: how many tickets hold it depends on the
        # client's size.
        "search 'c012-'",
        {"q": "c012-", "status": "any"},
        "WHERE lower(title) LIKE '%c012-%' OR lower(body) LIKE '%c012-%'",
        "created_at DESC, id DESC",
    ),
    (
        "search a 2-letter term",
        {"q": "vp", "status": "any"},
        "WHERE lower(title) LIKE '%vp%' OR lower(body) LIKE '%vp%'",
        "created_at DESC, id DESC",
    ),
    (
        "search a ticket number",
        {"q": "#123456", "status": "any"},
        "WHERE id = 123456",
        "created_at DESC, id DESC",
    ),
    (
        # A host name: about 100 matching tickets scattered over the year.
        "search a host name",
        {"q": "c007-srv0000", "status": "any"},
        "WHERE lower(title) LIKE '%c007-srv0000%' OR lower(body) LIKE '%c007-srv0000%'",
        "created_at DESC, id DESC",
    ),
]
QUEUE_COLUMNS = "id, client_id, title, category, priority, status, level, assignee_id, created_at"


def bare(db: Database, queries: list[str], params: dict[str, Any]) -> Callable[[], None]:
    names = ("now", "since", "since4w", "since28", "since56", "deep_at")

    def run() -> None:
        with db.bind.connect() as conn:  # type: ignore[union-attr]
            for sql in queries:
                used = [n for n in names if re.search(f":{n}\\b", sql)]
                stmt = text(sql).bindparams(*(bindparam(n, type_=UTCDateTime()) for n in used))
                values = {n: params[n] for n in used}
                if re.search(r":deep_id\b", sql):
                    stmt = stmt.bindparams(bindparam("deep_id"))
                    values["deep_id"] = params["deep_id"]
                conn.execute(stmt, values).all()

    return run


def service(db: Database, fn: Callable[[Any], Any]) -> Callable[[], None]:
    def run() -> None:
        with db.unit_of_work() as session:
            fn(session)

    return run


# ---------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--endpoints", type=int, default=10_000)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--regenerate", action="store_true", help="ignore a cached data set")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reset", action="store_true", help="drop the tables of --database-url")
    parser.add_argument(
        "--only", default="", help="time only the cases whose name starts with this ('queue')"
    )
    args = parser.parse_args()
    print(f"$ {command_line()}")
    print(f"load average {os.getloadavg()[0]:.1f} at start, {os.cpu_count()} CPUs")
    db, meta, cached = open_data(args)
    if cached:
        print(
            f"{db.dialect}: cached data set reused ({meta['tickets']} tickets, {meta['events']} "
            f"events, {meta['contacts']} contacts; generated in {meta['seconds']:.1f} s at "
            f"{meta['now']})"
        )
    else:
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in meta["timings"].items())
        print(
            f"{db.dialect}: generated {args.clients} clients, {args.endpoints} endpoints, "
            f"{meta['tickets']} tickets, {meta['events']} events, {meta['contacts']} contacts "
            f"in {meta['seconds']:.1f} s ({parts})"
        )
    now = datetime.fromisoformat(meta["now"])
    user = SimpleNamespace(is_manager=True, role="owner", level="owner", staff_id=meta["owner_id"])
    with db.unit_of_work() as session:
        since = kpi_report(session, weeks=8, now=now)["weeks"][0]["week_start"]
    params = {
        "now": now,
        "since": datetime.fromisoformat(since).replace(tzinfo=UTC) - timedelta(days=1),
        "since4w": now - timedelta(weeks=5),
        "since28": now - timedelta(days=28),
        "since56": now - timedelta(days=56),
    }
    kpi_base, audit_base = kpi_sql(db.dialect), audit_sql()
    cases: list[tuple[str, Callable[[], None], Callable[[], None], float | None]] = [
        (
            "dashboard (page data)",
            service(db, lambda s: dashboard_context(s, user, now=now)),  # type: ignore[arg-type]
            bare(db, kpi_base + audit_base, params),
            AIM_MS,
        ),
        (
            "kpi (8 weeks)",
            service(db, lambda s: kpi_report(s, weeks=8, now=now)),
            bare(db, kpi_base, params),
            None,
        ),
        ("audit", service(db, lambda s: audit(s, now=now)), bare(db, audit_base, params), None),
    ]
    with db.unit_of_work() as session:
        assignee = session.scalar(select(Ticket.assignee_id).where(Ticket.status == "new").limit(1))
        # A page deep in the year: the cursor of the 200,000th newest ticket.
        deep = session.scalars(
            select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc()).offset(200_000)
        ).first()
        assert deep is not None
        deep_cursor = encode_cursor(SORTS["created"], deep)
        deep_at, deep_id = deep.created_at, deep.id
    queues = [
        (
            name,
            {k: str(assignee) if v == "ASSIGNEE" else v for k, v in fields.items()},
            where.replace("ASSIGNEE", str(assignee)),
            order,
            None,
        )
        for name, fields, where, order in QUEUES
    ]
    queues.append(
        (
            "page 2001 (any status)",
            {"status": "any"},
            "WHERE created_at <= :deep_at AND (created_at < :deep_at OR id < :deep_id)",
            "created_at DESC, id DESC",
            deep_cursor,
        )
    )
    params["deep_at"] = deep_at
    params["deep_id"] = deep_id
    for name, fields, where, order, cursor in queues:
        order = order.replace("RANK", str(PRIORITY_RANK))
        sql = f"SELECT {QUEUE_COLUMNS} FROM tickets {where} ORDER BY {order} LIMIT {QUEUE_LIMIT}"
        cases.append(
            (
                f"queue: {name}",
                service(
                    db,
                    lambda s, f=fields, c=cursor: find_tickets(  # type: ignore[misc]
                        s, QueueQuery(**{"status": "open", **f}), cursor=c, limit=QUEUE_LIMIT
                    ),
                ),
                bare(db, [sql], params),
                QUEUE_AIM_MS,
            )
        )
    print(
        f"\n{args.repeat} runs each after 2 warm-ups; times in ms\n"
        f"{'':<26} {'p50':>8} {'p95':>8}   {'bare SQL p50':>12} {'p95':>8}   {'x bare':>7}"
    )
    missed = []
    for name, fn, base_fn, aim in cases:
        if not name.startswith(args.only):
            continue
        base = timed_ms(base_fn, args.repeat)
        samples = timed_ms(fn, args.repeat)
        verdict = ""
        if aim is not None:
            verdict = "ok" if p95(samples) < aim else f"OVER the {aim:g} ms aim"
            if p95(samples) >= aim:
                missed.append(name)
        print(
            f"{name:<26} {p50(samples):8.1f} {p95(samples):8.1f}   {p50(base):12.1f} "
            f"{p95(base):8.1f}   x{p50(samples) / p50(base):6.2f}  {verdict}"
        )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    db.dispose()
    print("every aim met" if not missed else "missed: " + ", ".join(missed))


if __name__ == "__main__":
    main()
