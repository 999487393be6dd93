"""Suggestion accuracy and automatic attachments on the labelled evaluation sets.

.venv/bin/python bench/suggest_accuracy.py [--csv tests/suggest/eval_tickets.csv] [--misses]
.venv/bin/python bench/suggest_accuracy.py --fit   # refit the confidence on eval_tickets.csv

In-scope top-1/top-3: the best runbook among tickets of the ten categories. Attached: how
many of those get their runbook attached on their own (confidence at or above the threshold)
and how many of these are wrong. Out-of-scope false attachments: tickets labelled `none`
(no runbook covers them) that got a runbook attached anyway.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from franchise.runbooks.lint import lint_files
from franchise.runbooks.service import STARTER
from franchise.suggest.calibration import ATTACH_THRESHOLD, choose_threshold, fit
from franchise.suggest.evaluate import Evaluation, evaluate, read_labelled
from franchise.suggest.index import SuggestIndex

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "suggest" / "eval_tickets.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--csv", type=Path, default=EVAL)
    parser.add_argument("--misses", action="store_true", help="print every top-1 miss")
    parser.add_argument(
        "--fit", action="store_true", help="fit the confidence and threshold on the --csv set"
    )
    args = parser.parse_args()
    index = SuggestIndex([rb for _, rb in lint_files([STARTER]).runbooks])
    result = evaluate(index, read_labelled(args.csv))
    if args.fit:
        coefficients, intercept = fit(result.evidence)
        print(f"COEFFICIENTS = ({', '.join(f'{c:.4f}' for c in coefficients)})")
        print(f"INTERCEPT = {intercept:.4f}")
        print("(the threshold below is chosen with the confidences of the stored constants)")
        print(f"ATTACH_THRESHOLD = {choose_threshold(result.scored)}")
        return
    report(result)
    if args.misses:
        for text, expected, got in result.misses:
            print(f"MISS expected={expected} got={got}: {text[:110]}")
        for text, expected, got, p in result.wrong_attachments:
            print(f"WRONG ATTACH expected={expected} got={got} at {p:.2f}: {text[:100]}")


def report(result: Evaluation) -> None:
    print(f"in-scope tickets: {result.total}")
    print(f"top-1 accuracy: {result.top1_accuracy:.1%} ({result.top1}/{result.total})")
    print(f"top-3 accuracy: {result.top3_accuracy:.1%} ({result.top3}/{result.total})")
    print(
        f"attached at confidence >= {ATTACH_THRESHOLD}: {result.attach_rate:.1%} "
        f"({result.attached}/{result.total}), of which wrong: {result.attached_wrong}"
    )
    print(
        f"out-of-scope false attachments: {result.false_attachment_rate:.1%} "
        f"({result.false_attachments}/{result.out_of_scope})"
    )
    for category in sorted(result.per_category):
        hits, total = result.per_category_hits[category], result.per_category[category]
        print(f"  {category:<18} {hits:>3}/{total:<3} top-1")
    print("calibration (confidence band: tickets, share whose best runbook was right):")
    for low in (0.0, 0.25, 0.5, 0.75):
        band = [right for p, right in result.scored if low <= p < (low + 0.25 if low < 0.75 else 2)]
        share = f"{sum(band) / len(band):.0%}" if band else "-"
        print(f"  {low:.2f}-{low + 0.25:.2f}: {len(band):>3} tickets, {share} right")


if __name__ == "__main__":
    main()
