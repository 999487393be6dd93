"""Top-1 / top-3 accuracy of `franchise suggest` on the labelled evaluation set.

.venv/bin/python bench/suggest_accuracy.py [--csv tests/suggest/eval_tickets.csv] [--misses]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from franchise.runbooks.lint import lint_files
from franchise.runbooks.service import STARTER
from franchise.suggest.evaluate import evaluate, read_labelled
from franchise.suggest.index import SuggestIndex

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--csv", type=Path, default=ROOT / "tests" / "suggest" / "eval_tickets.csv")
    parser.add_argument("--misses", action="store_true", help="print every top-1 miss")
    args = parser.parse_args()
    index = SuggestIndex([rb for _, rb in lint_files([STARTER]).runbooks])
    result = evaluate(index, read_labelled(args.csv))
    print(f"tickets: {result.total}")
    print(f"top-1 accuracy: {result.top1_accuracy:.1%} ({result.top1}/{result.total})")
    print(f"top-3 accuracy: {result.top3_accuracy:.1%} ({result.top3}/{result.total})")
    for category in sorted(result.per_category):
        hits, total = result.per_category_hits[category], result.per_category[category]
        print(f"  {category:<18} {hits:>3}/{total:<3} top-1")
    if args.misses:
        for text, expected, got in result.misses:
            print(f"MISS expected={expected} got={got}: {text[:110]}")


if __name__ == "__main__":
    main()
