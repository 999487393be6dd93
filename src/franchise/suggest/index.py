"""Suggest runbooks for a ticket text: match rules first, then TF-IDF text relevance.

Pure: built from parsed runbook definitions, no database. Character n-grams make the text
side robust to the typos real tickets carry ("pasword", "vpm", "printr").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from franchise.runbooks.definition import Runbook

# Weights of the signals, chosen on tests/suggest/eval_tickets.csv and checked on the
# held-out set (README, "Suggest accuracy"). Keywords are the MSP's own match rules; text
# likeness covers tickets that use none of them. An alert type is an exact identifier.
KEYWORD_WEIGHT = 0.4
TEXT_WEIGHT = 0.6
ALERT_TYPE_BONUS = 1.0
WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")


@dataclass(frozen=True)
class Suggestion:
    key: str
    category: str
    title: str
    score: float
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "category": self.category,
            "title": self.title,
            "score": round(self.score, 4),
            "why": self.why,
        }


def _document(runbook: Runbook) -> str:
    parts = [runbook.title, runbook.description, runbook.category.replace("-", " ")]
    parts += list(runbook.keywords) * 2
    parts += [step.text for step in runbook.steps.values()]
    parts += [f"{case.when} {case.do}" for case in runbook.edge_cases]
    return "\n".join(parts).lower()


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    """Whole words, so "print" does not fire inside "blueprint"; keywords of four letters or
    more also take a short suffix ("lock" -> "locked", "print" -> "printing")."""
    word = re.escape(keyword.lower())
    suffix = "[a-z]{0,3}" if len(keyword) >= 4 and keyword[-1].isalpha() else ""
    return re.compile(r"(?<![a-z0-9])" + word + suffix + r"(?![a-z0-9])")


class SuggestIndex:
    def __init__(self, runbooks: Sequence[Runbook]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.runbooks = [r for r in runbooks if r.status != "archived"]
        self._keywords = [[(k, _keyword_pattern(k)) for k in r.keywords] for r in self.runbooks]
        # Word n-grams catch phrasing; character n-grams catch typos and word variants.
        self._vectorizers = [
            TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True),
            TfidfVectorizer(
                analyzer="word", ngram_range=(1, 2), sublinear_tf=True, stop_words="english"
            ),
        ]
        documents = [_document(r) for r in self.runbooks]
        self._matrices = (
            [v.fit_transform(documents) for v in self._vectorizers] if documents else []
        )

    def suggest(
        self, text: str, *, alert_type: str | None = None, limit: int = 3
    ) -> list[Suggestion]:
        if not self.runbooks:
            return []
        lowered = text.lower()
        similarities = sum(
            (m @ v.transform([lowered]).T).toarray().ravel()
            for v, m in zip(self._vectorizers, self._matrices, strict=True)
        ) / len(self._vectorizers)
        top_similarity = float(similarities.max()) or 1.0
        scored = []
        for i, runbook in enumerate(self.runbooks):
            hits = [k for k, pattern in self._keywords[i] if pattern.search(lowered)]
            # Diminishing returns: the first hit says most, later hits confirm.
            keyword_score = 1 - 0.5 ** len(hits) if hits else 0.0
            text_score = float(similarities[i]) / top_similarity
            score = KEYWORD_WEIGHT * keyword_score + TEXT_WEIGHT * text_score
            reasons = []
            if alert_type and alert_type in runbook.alert_types:
                score += ALERT_TYPE_BONUS
                reasons.append(f"alert type {alert_type}")
            if hits:
                reasons.append("keywords: " + ", ".join(hits))
            reasons.append(f"text similarity {float(similarities[i]):.2f}")
            scored.append(
                Suggestion(runbook.key, runbook.category, runbook.title, score, "; ".join(reasons))
            )
        scored.sort(key=lambda s: (-s.score, s.key))
        return scored[:limit]
