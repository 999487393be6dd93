"""The numpy TF-IDF of the suggest index: scikit-learn's tokens and, to the last bit, its
likenesses (the confidence's constants were fitted on them).

tests/suggest/tfidf_reference.json holds five starter runbook documents (as the index builds
them, frozen), two odd ones (stop words only; accents, wide characters and runs of blanks),
47 ticket texts and the likenesses scikit-learn 1.9.1 computed for them:
`(m @ v.transform([text.lower()]).T)` with `m = v.fit_transform(documents)` for
`v = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)` and
`TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, stop_words="english")`,
each written with float.hex.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from franchise.suggest.stopwords import ENGLISH_STOP_WORDS
from franchise.suggest.tfidf import TfidfIndex, char_wb_ngrams, word_char_ngrams, word_ngrams

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((HERE / "tfidf_reference.json").read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize(("name", "analyze"), [("char_wb", char_wb_ngrams), ("word", word_ngrams)])
def test_likenesses_are_scikit_learns_to_the_last_bit(
    reference: dict[str, Any], name: str, analyze: Any
) -> None:
    index = TfidfIndex(analyze, reference["documents"])
    assert index.features == reference[f"{name}_features"]
    for text, expected in zip(reference["texts"], reference[name], strict=True):
        got = index.similarities(text.lower())
        assert [x.hex() for x in got.tolist()] == expected, text


def test_words_looked_up_once_give_scikit_learns_likenesses_too(reference: dict[str, Any]) -> None:
    """The index as suggest builds it: each word's known n-grams looked up once and
    remembered. Asked twice, so the second answer comes from what was remembered."""
    index = TfidfIndex(char_wb_ngrams, reference["documents"], by_word=word_char_ngrams)
    for _ in range(2):
        for text, expected in zip(reference["texts"], reference["char_wb"], strict=True):
            got = index.similarities(text.lower())
            assert [x.hex() for x in got.tolist()] == expected, text


def test_a_words_character_ngrams_are_its_share_of_the_texts() -> None:
    assert word_char_ngrams("vpn") == [" vp", "vpn", "pn ", " vpn", "vpn ", " vpn "]
    assert word_char_ngrams("a") == [" a "]
    assert char_wb_ngrams("vpn down", 3, 3) == [" vp", "vpn", "pn ", " do", "dow", "own", "wn "]
    assert char_wb_ngrams("vpn  down") == word_char_ngrams("vpn") + word_char_ngrams("down")


def test_character_ngrams_stay_inside_padded_words() -> None:
    assert char_wb_ngrams("VPN  down") == [
        " vp", "vpn", "pn ", " vpn", "vpn ", " vpn ",
        " do", "dow", "own", "wn ", " dow", "down", "own ", " down", "down ",
    ]  # fmt: skip
    # A word shorter than n gives itself padded, once: " a " only.
    assert char_wb_ngrams("a") == [" a "]
    assert char_wb_ngrams(" \t\n") == []


def test_word_ngrams_leave_out_stop_words_and_one_letter_words() -> None:
    assert word_ngrams("The VPN is down, a 2nd time") == [
        "vpn", "2nd", "time", "vpn 2nd", "2nd time",
    ]  # fmt: skip
    assert word_ngrams("the and of") == []
    assert word_ngrams("printer") == ["printer"]
    # From two words up: no single words.
    assert word_ngrams("printer toner jam", low=2) == ["printer toner", "toner jam"]
    assert len(ENGLISH_STOP_WORDS) == 318


def test_rows_are_unit_length_and_a_document_is_most_like_itself() -> None:
    documents = ["printer jam in the tray", "vpn tunnel down", "disk full on server"]
    index = TfidfIndex(word_ngrams, documents)
    for i, document in enumerate(documents):
        likeness = index.similarities(document)
        assert likeness[i] == pytest.approx(1.0)
        assert int(np.argmax(likeness)) == i
    # Sublinear tf: "printer" twice weighs 1 + log 2 times its idf; idf = 1 + log(4 / 2).
    # (Neither "jam printer" nor "printer printer" is a feature of the documents.)
    columns, weights = index.vector("jam printer printer")
    idf_printer, idf_jam = 1 + math.log(4 / 2), 1 + math.log(4 / 2)
    norm = math.hypot((1 + math.log(2)) * idf_printer, idf_jam)
    assert sorted(weights.tolist()) == pytest.approx(
        sorted([(1 + math.log(2)) * idf_printer / norm, idf_jam / norm])
    )
    assert len(columns) == 2


def test_unknown_or_empty_texts_are_like_nothing() -> None:
    index = TfidfIndex(char_wb_ngrams, ["printer jam", "vpn down"])
    assert index.similarities("").tolist() == [0.0, 0.0]
    assert index.similarities("zzzz").tolist() == [0.0, 0.0]
    # Documents of stop words only: no vocabulary at all, still an answer.
    empty = TfidfIndex(word_ngrams, ["the and", "of it"])
    assert empty.features == 0
    assert empty.similarities("the printer").tolist() == [0.0, 0.0]


def test_a_text_unlike_the_last_documents_still_gets_a_likeness_for_each() -> None:
    # "printer jam": three features (printer, jam, "printer jam"), each of idf 1 + log(3 / 2)
    # and count 1, so each weighs 1 / sqrt(3) in the row; the text "printer" is that one
    # feature, of weight 1.
    index = TfidfIndex(word_ngrams, ["printer jam", "vpn down", "disk full"])
    assert index.similarities("printer").tolist() == pytest.approx([1 / math.sqrt(3), 0.0, 0.0])
