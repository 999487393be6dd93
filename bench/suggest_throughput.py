"""Suggest throughput with 200 runbooks loaded, against a keyword-only scan, and index build.

    .venv/bin/python bench/suggest_throughput.py [--runbooks 200] [--rounds 5]
        [--database-url postgresql://postgres@127.0.0.1:5432/SCRATCH --reset]

The 200 runbooks are the ten starter runbooks in twenty variants each (own key and title,
as a library grows by copying and specialising). The tickets are the texts of
tests/suggest/eval_tickets.csv, --rounds times over. Measured in one run:

  keyword scan  the baseline: each runbook's keywords as plain regular expressions
  index         SuggestIndex.suggest (match rules + TF-IDF), the pure scorer
  service       franchise.suggest.service.suggest(session, ...), what a new ticket or alert
                calls: the 200 runbooks stored in the database (SQLite file, or the scratch
                PostgreSQL database), the cached index looked up by the runbooks' revisions
  build         SuggestIndex(...) from parsed runbooks, and the first service call after a
                runbook changed (loads every definition from the database and rebuilds)
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, check_empty, command_line, fresh_database, is_postgres
from franchise.runbooks.definition import Runbook
from franchise.runbooks.lint import lint_files
from franchise.runbooks.service import STARTER, save_runbook
from franchise.suggest import service as suggest_service
from franchise.suggest.evaluate import read_labelled
from franchise.suggest.index import SuggestIndex

VARIANTS = (
    "",
    "for servers",
    "for Mac users",
    "for remote staff",
    "for medical clients",
    "for law firms",
    "for schools",
    "for the warehouse",
    "for executives",
    "for kiosks",
    "for shared mailboxes",
    "for contractors",
    "for branch offices",
    "for VIP clients",
    "after hours",
    "for new sites",
    "for Linux hosts",
    "for Azure AD only tenants",
    "for hybrid AD",
    "for manufacturing",
)


def starter_sources() -> list[tuple[Runbook, str]]:
    parsed = lint_files([STARTER]).runbooks
    return [(rb, Path(path).read_text(encoding="utf-8")) for path, rb in parsed]


def library(size: int) -> tuple[list[Runbook], list[str]]:
    """`size` runbooks (parsed) and their YAML sources, each with its own key and title."""
    starter = starter_sources()
    runbooks, sources = [], []
    for i in range(size):
        base, source = starter[i % len(starter)]
        variant = VARIANTS[(i // len(starter)) % len(VARIANTS)]
        key = f"{base.key}-{i}"
        title = f"{base.title} {variant}".strip()
        runbooks.append(replace(base, key=key, title=title))
        source = re.sub(r"(?m)^key: .*$", f"key: {key}", source, count=1)
        source = re.sub(r"(?m)^title: .*$", f"title: {title}", source, count=1)
        sources.append(source)
    return runbooks, sources


def keyword_scan(runbooks: list[Runbook], texts: list[str]) -> None:
    patterns = [[re.compile(re.escape(k)) for k in rb.keywords] for rb in runbooks]
    for text in texts:
        low = text.lower()
        scores = [sum(1 for p in pats if p.search(low)) for pats in patterns]
        max(range(len(scores)), key=scores.__getitem__)


def rate(seconds: float, n: int) -> str:
    return f"{n / seconds:8.0f} tickets/s  {seconds / n * 1000:7.3f} ms each"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runbooks", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reset", action="store_true", help="drop the tables of --database-url")
    args = parser.parse_args()
    if args.database_url:
        if not is_postgres(args.database_url):
            sys.exit("--database-url: give a PostgreSQL scratch database (SQLite is the default)")
        check_empty(args.database_url, args.reset)
    print(f"$ {command_line()}")
    print(f"load average {os.getloadavg()[0]:.1f} at start, {os.cpu_count()} CPUs")
    runbooks, sources = library(args.runbooks)
    texts = [
        t for t, _ in read_labelled(ROOT / "tests" / "suggest" / "eval_tickets.csv")
    ] * args.rounds
    n = len(texts)

    builds = []
    for _ in range(3):
        start = time.perf_counter()
        index = SuggestIndex(runbooks)
        builds.append(time.perf_counter() - start)
    build = statistics.median(builds)

    start = time.perf_counter()
    keyword_scan(runbooks, texts)
    baseline = time.perf_counter() - start

    start = time.perf_counter()
    for text in texts:
        index.suggest(text)
    pure = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as home:
        url = args.database_url or f"sqlite:///{Path(home) / 'suggest.sqlite3'}"
        db = fresh_database(url)
        start = time.perf_counter()
        with db.unit_of_work() as session:
            for source in sources:
                save_runbook(session, source, file="<bench>", note="bench variant")
        stored = time.perf_counter() - start
        suggest_service._cache.clear()  # a cold start, as after a runbook edit
        with db.unit_of_work() as session:
            start = time.perf_counter()
            suggest_service.suggest(session, texts[0])
            cold = time.perf_counter() - start
        with db.unit_of_work() as session:
            start = time.perf_counter()
            for text in texts:
                suggest_service.suggest(session, text, limit=1)
            served = time.perf_counter() - start
        db.dispose()

    print(
        f"{db.dialect}: {len(runbooks)} runbooks ({len(sources)} stored in {stored:.1f} s), "
        f"{n} tickets ({n // args.rounds} texts x {args.rounds})"
    )
    print(f"index build (pure)           {build * 1000:8.1f} ms (median of 3)")
    print(f"first suggest after a change {cold * 1000:8.1f} ms (load definitions + build)")
    print(f"keyword scan (baseline)      {rate(baseline, n)}")
    print(f"SuggestIndex.suggest         {rate(pure, n)}  x{pure / baseline:.1f} the baseline time")
    print(
        f"suggest service (database)   {rate(served, n)}  x{served / baseline:.1f} the baseline time"
    )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
