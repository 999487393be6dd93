"""Suggest runbooks for a ticket text: match rules first, then TF-IDF text relevance.

Pure: built from parsed runbook definitions, no database. Character n-grams make the text
side robust to the typos real tickets carry ("pasword", "vpm", "printr"). The ranking says
which runbook fits best; `calibration` says how sure that is ("no runbook fits" below its
threshold).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from franchise.runbooks.definition import Runbook
from franchise.suggest.calibration import ATTACH_THRESHOLD, Evidence, confidence, fits
from franchise.suggest.tfidf import TfidfIndex, char_wb_ngrams, word_char_ngrams, word_ngrams

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


@dataclass(frozen=True)
class Match:
    """A ranking plus the calibrated confidence that its first runbook is the right one."""

    suggestions: list[Suggestion]
    confidence: float
    # What the confidence was computed from; None for an alert type's exact match.
    evidence: Evidence | None = None
    threshold: float = ATTACH_THRESHOLD

    @property
    def fits(self) -> bool:
        """False means "no runbook fits": the best one is at most worth offering."""
        return bool(self.suggestions) and fits(self.confidence, self.threshold)

    @property
    def best(self) -> Suggestion | None:
        return self.suggestions[0] if self.suggestions else None

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "runbook": best.key if best is not None and self.fits else None,
            "confidence": round(self.confidence, 4),
            "threshold": self.threshold,
            "fits": self.fits,
            "suggestions": [s.to_dict() for s in self.suggestions],
        }


@dataclass(frozen=True)
class _Ranking:
    order: list[int]
    scores: list[float]
    similarities: list[float]
    hit_counts: list[int]
    matched: set[str]


class SuggestIndex:
    def __init__(self, runbooks: Sequence[Runbook]) -> None:
        self.runbooks = [r for r in runbooks if r.status != "archived"]
        self._keywords = [[(k, _keyword_pattern(k)) for k in r.keywords] for r in self.runbooks]
        # Each distinct keyword is searched once per text, however many runbooks share it
        # (a library grows by copying runbooks), and only when its letters occur at all.
        self._patterns = {k: (k.lower(), p) for keywords in self._keywords for k, p in keywords}
        self._keyword_owners: dict[str, list[int]] = {}
        for i, keywords in enumerate(self._keywords):
            for k, _ in keywords:
                self._keyword_owners.setdefault(k, []).append(i)
        # The runbooks claiming each alert type (match.alert_types).
        self._claimants: dict[str, set[int]] = {}
        for i, runbook in enumerate(self.runbooks):
            for alert_type in runbook.alert_types:
                self._claimants.setdefault(alert_type, set()).add(i)
        # Character n-grams catch typos and word variants; word n-grams catch phrasing.
        documents = [_document(r) for r in self.runbooks]
        self._texts = (
            TfidfIndex(char_wb_ngrams, documents, by_word=word_char_ngrams),
            TfidfIndex(word_ngrams, documents),
        )

    def suggest(
        self, text: str, *, alert_type: str | None = None, limit: int = 3
    ) -> list[Suggestion]:
        return self.match(text, alert_type=alert_type, limit=limit).suggestions

    def sole_claimant(self, alert_type: str | None) -> Runbook | None:
        """The runbook that claims an alert type, when exactly one does. It is the best match
        of any text with that alert type (the bonus puts it above every score without one),
        with confidence 1.0, so a caller wanting only the best need not rank the text."""
        claimants = self._claimants.get(alert_type) if alert_type else None
        if claimants is None or len(claimants) != 1:
            return None
        return self.runbooks[next(iter(claimants))]

    def match(self, text: str, *, alert_type: str | None = None, limit: int = 3) -> Match:
        """The best runbooks in order, and how sure it is that the first one is right."""
        if not self.runbooks:
            return Match([], 0.0)
        ranking = self._rank(text.lower(), alert_type)
        suggestions = [self._suggestion(i, ranking, alert_type) for i in ranking.order[:limit]]
        best = ranking.order[0]
        if alert_type and alert_type in self.runbooks[best].alert_types:
            # An alert type is an exact identifier the runbook claims, not a textual guess.
            return Match(suggestions, 1.0)
        runner_up = ranking.similarities[ranking.order[1]] if len(ranking.order) > 1 else 0.0
        evidence = Evidence(
            similarity=ranking.similarities[best],
            margin=ranking.similarities[best] - runner_up,
            keyword_hits=ranking.hit_counts[best],
        )
        return Match(suggestions, confidence(evidence), evidence)

    def _rank(self, lowered: str, alert_type: str | None) -> _Ranking:
        characters, words = self._texts
        similarities = (characters.similarities(lowered) + words.similarities(lowered)) / 2
        top_similarity = float(similarities.max()) or 1.0
        matched = {
            k
            for k, (literal, pattern) in self._patterns.items()
            if literal in lowered and pattern.search(lowered)
        }
        hit_counts = [0] * len(self.runbooks)
        for k in matched:
            for i in self._keyword_owners[k]:
                hit_counts[i] += 1
        text_similarities = similarities.tolist()
        scores = []
        for i, runbook in enumerate(self.runbooks):
            # Diminishing returns: the first hit says most, later hits confirm.
            # (No hit: 1 - 0.5 ** 0 = 0.)
            keyword_score = 1 - 0.5 ** hit_counts[i]
            text_score = text_similarities[i] / top_similarity
            score = KEYWORD_WEIGHT * keyword_score + TEXT_WEIGHT * text_score
            if alert_type and alert_type in runbook.alert_types:
                score += ALERT_TYPE_BONUS
            scores.append(score)
        order = sorted(range(len(self.runbooks)), key=lambda i: (-scores[i], self.runbooks[i].key))
        return _Ranking(order, scores, text_similarities, hit_counts, matched)

    def _suggestion(self, i: int, ranking: _Ranking, alert_type: str | None) -> Suggestion:
        runbook = self.runbooks[i]
        score, similarity = ranking.scores[i], ranking.similarities[i]
        hits = [k for k, _ in self._keywords[i] if k in ranking.matched]
        reasons = []
        if alert_type and alert_type in runbook.alert_types:
            reasons.append(f"alert type {alert_type}")
        if hits:
            reasons.append("keywords: " + ", ".join(hits))
        reasons.append(f"text similarity {similarity:.2f}")
        return Suggestion(runbook.key, runbook.category, runbook.title, score, "; ".join(reasons))
