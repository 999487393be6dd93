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
# Words whose known features are remembered (a few MB at most); past it, looked up each time.
MAX_REMEMBERED_WORDS = 50_000


def char_wb_ngrams(text: str, low: int = 3, high: int = 5) -> list[str]:
    """Character n-grams inside each word, the word padded with a space on both sides
    ("vpn" -> " vp", "vpn", "pn ", " vpn", "vpn ", " vpn "); a word shorter than n gives
    itself padded, once."""
    ngrams: list[str] = []
    for word in words(text):
        ngrams += word_char_ngrams(word, low, high)
    return ngrams


def words(text: str) -> list[str]:
    """The lowered text's words, as `char_wb_ngrams` splits it."""
    return _WHITE_SPACES.sub(" ", text.lower()).split()


def word_char_ngrams(word: str, low: int = 3, high: int = 5) -> list[str]:
    """One word's part of `char_wb_ngrams`: a word's n-grams never depend on its neighbours."""
    ngrams: list[str] = []
    append = ngrams.append
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

    def __init__(
        self, analyze: Analyzer, documents: Sequence[str], *, by_word: Analyzer | None = None
    ) -> None:
        """`by_word`, when given, is the analyzer's part for one word of `words(text)`
        (`word_char_ngrams` for `char_wb_ngrams`): a text's features are then gathered word
        by word, each word's known features looked up once and remembered. An alert storm's
        tickets share most of their words, and the lookups were most of a suggestion's cost."""
        self._analyze = analyze
        self._by_word = by_word
        self._word_columns: dict[str, list[int]] = {}
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
        columns, counts = np.unique(
            np.array(self._known_columns(text), dtype=np.intp), return_counts=True
        )
        weights = counts.astype(np.float64)
        np.log(weights, out=weights)
        weights += 1.0
        weights *= self._idf[columns]
        if len(weights):
            # A running sum, in the features' alphabetical order (np.add.accumulate adds one
            # after the other, as scikit-learn's loop did). Every weight is at least 1: the
            # total is never 0.
            ordered = weights[np.argsort(self._alphabetical[columns])]
            weights /= math.sqrt(float(np.add.accumulate(ordered * ordered)[-1]))
        return columns, weights

    def _known_columns(self, text: str) -> list[int]:
        """The feature number of each of the text's features that the documents have, as
        often as the text has it."""
        known = self._vocabulary.get
        if self._by_word is None:
            return [c for c in map(known, self._analyze(text)) if c is not None]
        columns: list[int] = []
        remembered = self._word_columns
        for word in words(text):
            found = remembered.get(word)
            if found is None:
                found = [c for c in map(known, self._by_word(word)) if c is not None]
                if len(remembered) < MAX_REMEMBERED_WORDS:
                    remembered[word] = found
            columns += found
        return columns

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
