"""Measure suggestion accuracy on a labelled CSV of ticket texts (columns: text, category)."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from franchise.errors import InvalidInput
from franchise.suggest.index import SuggestIndex


@dataclass
class Evaluation:
    total: int = 0
    top1: int = 0
    top3: int = 0
    misses: list[tuple[str, str, str]] = field(default_factory=list)
    per_category: Counter[str] = field(default_factory=Counter)
    per_category_hits: Counter[str] = field(default_factory=Counter)

    @property
    def top1_accuracy(self) -> float:
        return self.top1 / self.total if self.total else 0.0

    @property
    def top3_accuracy(self) -> float:
        return self.top3 / self.total if self.total else 0.0


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


def evaluate(index: SuggestIndex, rows: Sequence[tuple[str, str]]) -> Evaluation:
    result = Evaluation()
    for text, expected in rows:
        categories = [s.category for s in index.suggest(text, limit=3)]
        result.total += 1
        result.per_category[expected] += 1
        if categories[:1] == [expected]:
            result.top1 += 1
            result.per_category_hits[expected] += 1
        else:
            result.misses.append((text, expected, categories[0] if categories else "-"))
        if expected in categories:
            result.top3 += 1
    return result
