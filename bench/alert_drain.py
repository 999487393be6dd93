"""How fast the inbox becomes tickets, in this process, with no HTTP in the way.

    .venv/bin/python bench/alert_drain.py [--alerts 4000] [--size 50] [--repeat 0.25]
        [--group-by alert|group] [--sites 0] [--one-group]
        [--database-url postgresql://.../SCRATCH --reset] [--budget SECONDS]
        [--profile out.prof] [--top 30] [--statements] [--one-by-one | --compare]

The storm of bench/alert_storm.py (same alerts, same 300 clients and 10,000 endpoints, the
starter library) is stored in the inbox directly (`store_many`), then drained by
`process_pending` as `franchise worker` does. Reported: the drain's alerts/s (wall and CPU)
and exactness (groups == distinct fingerprints, sum of counts == alerts). With --profile,
the drain runs under cProfile and the `--top` functions by cumulative time are printed: the
tool for finding where processing time goes. --compare drains the same storm one by one
(`process_pending(bulk=False)`, every alert through `processing.apply_alert`), then on a
fresh database with the bulk path (`alerts/bulk.py`): the baseline in the same run. On a
shared machine, compare runs made one after the other (or the CPU seconds, which are
steadier than wall time). --one-group puts every alert in one notification group (as an
Alertmanager route without `group_by` does): with `--group-by group --size N`, bodies of N
alerts of one group, each applied as that group's members.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import check_empty, command_line, is_postgres
from alert_storm import GROUP_BY, hostnames, make_storm, seed
from franchise.alerts.inbox import receive, store_many
from franchise.alerts.models import AlertGroup, Integration
from franchise.alerts.worker import TRANSACTION_BUDGET, process_pending
from franchise.db import Database, normalise_url
from franchise.suggest.service import warm_up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=4000)
    parser.add_argument("--size", type=int, default=50, help="alerts per webhook body")
    parser.add_argument("--repeat", type=float, default=0.25)
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--endpoints", type=int, default=10_000)
    parser.add_argument("--group-by", choices=("alert", "group"), default="alert")
    parser.add_argument("--sites", type=int, default=0)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reset", action="store_true")
    parser.add_argument(
        "--budget",
        type=float,
        default=TRANSACTION_BUDGET,
        help="seconds one processing transaction may take (the worker's default)",
    )
    parser.add_argument("--profile", default="", help="write cProfile stats to this file")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--statements", action="store_true", help="count the SQL statements of the drain"
    )
    parser.add_argument(
        "--one-by-one",
        action="store_true",
        help="apply every item one by one (processing.apply_alert), without the bulk path",
    )
    parser.add_argument(
        "--one-group",
        action="store_true",
        help="every alert in one notification group (an Alertmanager route without group_by)",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="drain one by one, then (on a fresh database) in bulk, and print the ratio",
    )
    args = parser.parse_args()
    if args.database_url:
        if not is_postgres(args.database_url):
            sys.exit("--database-url: give a PostgreSQL scratch database (SQLite is the default)")
        check_empty(args.database_url, args.reset)
    print(f"$ {command_line()}")
    hosts = hostnames(args.clients, args.endpoints)
    storm = make_storm(
        args.alerts,
        args.size,
        args.repeat,
        hosts,
        sites=args.sites,
        group_by=() if args.one_group else GROUP_BY,
    )
    exact = True
    rates: dict[bool, float] = {}
    for bulk in (False, True) if args.compare else (not args.one_by_one,):
        if args.database_url and bulk and args.compare:
            check_empty(args.database_url, True)
        exact &= drain(args, hosts, storm, bulk, rates)
    if args.compare:
        print(
            f"bulk vs one by one, same run: x{rates[True] / rates[False]:.2f} alerts per CPU second"
        )
    if not exact:
        sys.exit(1)


def drain(
    args: argparse.Namespace, hosts: Any, storm: Any, bulk: bool, rates: dict[bool, float]
) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'drain.sqlite3'}"
        seed(url, args.clients, hosts, args.group_by, args.sites)
        db = Database.from_url(normalise_url(url))
        with db.unit_of_work() as session:
            integration = session.scalars(select(Integration)).one()
            store_many(
                session,
                [(integration.id, receive("alertmanager", b, {})) for b in storm.franchise_bodies],
            )
        warm_up(db)  # the suggest index is built once per library, not per storm: not timed
        statements: Counter[str] = Counter()
        if args.statements:

            @event.listens_for(db.bind, "before_cursor_execute")
            def count(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
                statements[" ".join(statement.split())[:90]] += 1

        profiler = cProfile.Profile() if args.profile else None
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        report = process_pending(db, worker="bench", bulk=bulk, budget=args.budget)
        if profiler is not None:
            profiler.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        with db.unit_of_work() as session:
            groups = session.scalar(select(func.count()).select_from(AlertGroup)) or 0
            counts = session.scalar(select(func.coalesce(func.sum(AlertGroup.count), 0))) or 0
        db.dispose()
    rates[bulk] = args.alerts / cpu
    print(
        f"{db.dialect} ({'bulk' if bulk else 'one by one'}): {args.alerts} alerts in bodies of "
        f"{args.size}, group by {args.group_by}: drained in {wall:.2f} s "
        f"({args.alerts / wall:,.0f} alerts/s wall, {args.alerts / cpu:,.0f} alerts per CPU second)"
    )
    exact = args.group_by != "alert" or (groups == storm.distinct and counts == args.alerts)
    print(
        f"  items done {report.done}, failed {report.failed}; groups {groups} "
        f"(distinct {storm.distinct}), sum of counts {counts}: "
        + ("exact" if exact else "NOT EXACT")
        + f"; outcomes {report.outcomes}"
    )
    if statements:
        total = sum(statements.values())
        print(f"  {total} SQL statements, {total / args.alerts:.1f} per alert; most frequent:")
        for statement, n in statements.most_common(args.top):
            print(f"  {n:7d}  {statement}")
    if profiler is not None:
        profiler.dump_stats(args.profile)
        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(args.top)
    return exact


if __name__ == "__main__":
    main()
