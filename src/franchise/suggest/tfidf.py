"""TF-IDF likeness of a text to each of a few hundred documents, with numpy alone.

The arithmetic of scikit-learn's TfidfVectorizer as the suggest index configured it (it was
built on it): sublinear term frequency (1 + log count), smoothed idf (1 + log((1 + n) /
(1 + df))), rows divided by their L2 norm, and the same tokens (`char_wb_ngrams`,
`word_ngrams`). The additions happen in the same order too, so every likeness is the same
float to the last bit: the confidence's fitted constants and the evaluation figures still
hold (tests/suggest/test_tfidf.py compares with values scikit-learn computed).

Without scikit-learn and scipy the server idles in about 75 MB less memory (README, Memory).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from franchise.suggest.stopwords import ENGLISH_STOP_WORDS

Analyzer = Callable[[str], list[str]]
Floats = npt.NDArray[np.float64]

_WHITE_SPACES = re.compile(r"\s\s+")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def char_wb_ngrams(text: str, low: int = 3, high: int = 5) -> list[str]:
    """Character n-grams inside each word, the word padded with a space on both sides
    ("vpn" -> " vp", "vpn", "pn ", " vpn", "vpn ", " vpn "); a word shorter than n gives
    itself padded, once."""
    ngrams: list[str] = []
    append = ngrams.append
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            offset = 0
            append(padded[:n])
            while offset + n < length:
                offset += 1
                append(padded[offset : offset + n])
            if offset == 0:
                break
    return ngrams


def word_ngrams(
    text: str, low: int = 1, high: int = 2, stop_words: frozenset[str] = ENGLISH_STOP_WORDS
) -> list[str]:
    """Words of two characters or more, less the stop words, then each run of `low` to
    `high` of them joined by a space (the stop words left out make runs of their own)."""
    tokens = [t for t in _TOKEN.findall(text.lower()) if t not in stop_words]
    ngrams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high, len(tokens)) + 1):
        ngrams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return ngrams


class TfidfIndex:
    """The documents' TF-IDF rows, stored by feature (the documents holding each feature
    and its weights there), so a text's likeness reads only the features it has.

    Features are numbered in the order they first occur in the documents: scikit-learn
    added a row's products in that order, and so does `similarities`."""

    def __init__(self, analyze: Analyzer, documents: Sequence[str]) -> None:
        self._analyze = analyze
        self._documents = len(documents)
        self._vocabulary: dict[str, int] = {}
        columns: list[int] = []
        counts: list[int] = []
        lengths: list[int] = []
        for document in documents:
            counter: dict[int, int] = {}
            for feature in analyze(document):
                column = self._vocabulary.setdefault(feature, len(self._vocabulary))
                counter[column] = counter.get(column, 0) + 1
            ordered = sorted(counter)
            columns += ordered
            counts += [counter[c] for c in ordered]
            lengths.append(len(ordered))
        size = len(self._vocabulary)
        column_of = np.array(columns, dtype=np.intp)
        weights = np.array(counts, dtype=np.float64)
        # Smoothed idf, as if one more document held every feature once: never a zero weight.
        # (Every feature comes from some document: bincount gives one count per feature.)
        per_feature = np.bincount(column_of)
        frequency = per_feature + 1.0
        self._idf: Floats = np.full(size, self._documents + 1, dtype=np.float64)
        self._idf /= frequency
        np.log(self._idf, out=self._idf)
        self._idf += 1.0
        np.log(weights, out=weights)
        weights += 1.0
        weights *= self._idf[column_of]
        start = 0
        for length in lengths:
            row = weights[start : start + length]
            if length:
                # A running sum adds in the row's order, as scikit-learn's normalisation did
                # (numpy's sum adds pairwise, which rounds differently).
                # (Every weight is at least 1: the total is never 0.)
                row /= math.sqrt(float(np.add.accumulate(row * row)[-1]))
            start += length
        # A text's norm adds its weights in the features' alphabetical order.
        # (Each feature's rank: the inverse of the alphabetical order of feature numbers.)
        self._alphabetical = np.argsort([self._vocabulary[f] for f in sorted(self._vocabulary)])
        # Column-major: a stable sort keeps each feature's documents in order.
        by_column = np.argsort(column_of, kind="stable")
        document_of = np.repeat(np.arange(len(documents), dtype=np.int32), lengths)
        self._documents_of = document_of[by_column]
        self._weights: Floats = weights[by_column]
        self._starts = np.zeros(size + 1, dtype=np.intp)
        np.cumsum(per_feature, out=self._starts[1:])

    @property
    def features(self) -> int:
        return len(self._vocabulary)

    def vector(self, text: str) -> tuple[npt.NDArray[np.intp], Floats]:
        """The text's TF-IDF vector: its known features (in order of number) and their
        L2-normalised weights."""
        counts: dict[int, int] = {}
        known = self._vocabulary.get
        for feature in self._analyze(text):
            column = known(feature)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = np.array(sorted(counts), dtype=np.intp)
        weights = np.array([counts[c] for c in columns.tolist()], dtype=np.float64)
        np.log(weights, out=weights)
        weights += 1.0
        weights *= self._idf[columns]
        total = 0.0
        for w in weights[np.argsort(self._alphabetical[columns])].tolist():
            total += w * w
        # (Each weight is at least 1: the total is 0 only for no features, no weights.)
        weights /= math.sqrt(total)
        return columns, weights

    def similarities(self, text: str) -> Floats:
        """The cosine likeness of the text to each document, in the documents' order."""
        columns, weights = self.vector(text)
        if not len(columns):
            return np.zeros(self._documents)
        starts = self._starts[columns]
        lengths = self._starts[columns + 1] - starts
        # Every stored weight of the text's features, feature after feature.
        ends = np.cumsum(lengths)
        at = np.arange(int(ends[-1])) + np.repeat(starts - ends + lengths, lengths)
        products = self._weights[at] * np.repeat(weights, lengths)
        # bincount adds in the order given: each document's products by feature number.
        likeness = np.bincount(self._documents_of[at], weights=products, minlength=self._documents)
        return likeness.astype(np.float64, copy=False)  # (weighted counts: already floats)
