"""Measure suggestions on a labelled CSV of ticket texts (columns: text, category).

A ticket labelled `none` is one no runbook covers: it counts toward the false attachments,
never toward top-1. In-scope top-1 is about the ranking; attachments are about the confidence.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from franchise.errors import InvalidInput
from franchise.suggest.calibration import ATTACH_THRESHOLD, NO_RUNBOOK, Evidence, fits
from franchise.suggest.index import SuggestIndex


@dataclass
class Evaluation:
    total: int = 0
    top1: int = 0
    top3: int = 0
    misses: list[tuple[str, str, str]] = field(default_factory=list)
    per_category: Counter[str] = field(default_factory=Counter)
    per_category_hits: Counter[str] = field(default_factory=Counter)
    # In-scope tickets whose best runbook was attached, and how many of those were wrong.
    attached: int = 0
    attached_wrong: int = 0
    # Tickets no runbook covers, and how many got one attached anyway.
    out_of_scope: int = 0
    false_attachments: int = 0
    wrong_attachments: list[tuple[str, str, str, float]] = field(default_factory=list)
    # (confidence, was the best runbook right) of every ticket: for calibration and reports.
    scored: list[tuple[float, bool]] = field(default_factory=list)
    evidence: list[tuple[Evidence, bool]] = field(default_factory=list)

    @property
    def top1_accuracy(self) -> float:
        return self.top1 / self.total if self.total else 0.0

    @property
    def top3_accuracy(self) -> float:
        return self.top3 / self.total if self.total else 0.0

    @property
    def attach_rate(self) -> float:
        return self.attached / self.total if self.total else 0.0

    @property
    def false_attachment_rate(self) -> float:
        return self.false_attachments / self.out_of_scope if self.out_of_scope else 0.0


def read_labelled(path: Path) -> list[tuple[str, str]]:
    rows = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"text", "category"} <= set(reader.fieldnames):
            raise InvalidInput(f"{path}: needs a header with columns 'text' and 'category'")
        for line, row in enumerate(reader, start=2):
            if not (row.get("text") or "").strip() or not (row.get("category") or "").strip():
                raise InvalidInput(f"{path}:{line}: empty text or category")
            rows.append((row["text"], row["category"].strip()))
    return rows


def evaluate(
    index: SuggestIndex,
    rows: Sequence[tuple[str, str]],
    *,
    threshold: float = ATTACH_THRESHOLD,
) -> Evaluation:
    """Top-1/top-3 over the in-scope rows; attachments at `threshold` over all of them."""
    result = Evaluation()
    for text, expected in rows:
        match = index.match(text, limit=3)
        categories = [s.category for s in match.suggestions]
        best = categories[0] if categories else "-"
        right = best == expected
        attached = bool(categories) and fits(match.confidence, threshold)
        result.scored.append((match.confidence, right))
        if match.evidence is not None:
            result.evidence.append((match.evidence, right))
        if expected == NO_RUNBOOK:
            result.out_of_scope += 1
            if attached:
                result.false_attachments += 1
                result.wrong_attachments.append((text, expected, best, match.confidence))
            continue
        result.total += 1
        result.per_category[expected] += 1
        if right:
            result.top1 += 1
            result.per_category_hits[expected] += 1
        else:
            result.misses.append((text, expected, best))
        if expected in categories:
            result.top3 += 1
        if attached:
            result.attached += 1
            if not right:
                result.attached_wrong += 1
                result.wrong_attachments.append((text, expected, best, match.confidence))
    return result
