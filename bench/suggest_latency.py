"""Suggest latency per ticket with 50 runbooks loaded, against a keyword-only scan baseline.

The 50 runbooks are the ten starter runbooks, each in five variants (own key and title),
as a library grows. The baseline scans the same keywords with plain regular expressions.

    .venv/bin/python bench/suggest_latency.py [--runbooks 50] [--rounds 5]
"""

from __future__ import annotations

import argparse
import re
import time
from dataclasses import replace
from pathlib import Path

from franchise.runbooks.definition import Runbook
from franchise.runbooks.lint import lint_files
from franchise.runbooks.service import STARTER
from franchise.suggest.evaluate import read_labelled
from franchise.suggest.index import SuggestIndex

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("", "for servers", "for Mac users", "for remote staff", "for medical clients")


def library(size: int) -> list[Runbook]:
    starter = [rb for _, rb in lint_files([STARTER]).runbooks]
    out = []
    for i in range(size):
        base = starter[i % len(starter)]
        variant = VARIANTS[(i // len(starter)) % len(VARIANTS)]
        out.append(replace(base, key=f"{base.key}-{i}", title=f"{base.title} {variant}".strip()))
    return out


def keyword_scan(runbooks: list[Runbook], texts: list[str]) -> None:
    patterns = [[re.compile(re.escape(k)) for k in rb.keywords] for rb in runbooks]
    for text in texts:
        low = text.lower()
        scores = [sum(1 for p in pats if p.search(low)) for pats in patterns]
        max(range(len(scores)), key=scores.__getitem__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runbooks", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    runbooks = library(args.runbooks)
    texts = [
        t for t, _ in read_labelled(ROOT / "tests" / "suggest" / "eval_tickets.csv")
    ] * args.rounds

    start = time.perf_counter()
    index = SuggestIndex(runbooks)
    build = time.perf_counter() - start

    start = time.perf_counter()
    keyword_scan(runbooks, texts)
    baseline = (time.perf_counter() - start) / len(texts)

    start = time.perf_counter()
    for text in texts:
        index.suggest(text)
    per_ticket = (time.perf_counter() - start) / len(texts)

    print(f"runbooks: {len(runbooks)}, tickets suggested: {len(texts)}")
    print(f"index build:             {build * 1000:8.1f} ms")
    print(f"keyword scan (baseline): {baseline * 1000:8.3f} ms per ticket")
    print(
        f"franchise suggest:       {per_ticket * 1000:8.3f} ms per ticket  x{per_ticket / baseline:.1f}  (aim < 5 ms)"
    )


if __name__ == "__main__":
    main()
