"""Runbook suggestions: accuracy on the labelled set, typos, alert types, archived runbooks."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from franchise.errors import InvalidInput
from franchise.runbooks.definition import Runbook
from franchise.runbooks.lint import lint_files
from franchise.runbooks.service import STARTER
from franchise.suggest.evaluate import evaluate, read_labelled
from franchise.suggest.index import SuggestIndex

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def starter() -> list[Runbook]:
    return [rb for _, rb in lint_files([STARTER]).runbooks]


@pytest.fixture(scope="module")
def index(starter: list[Runbook]) -> SuggestIndex:
    return SuggestIndex(starter)


def test_accuracy_on_the_labelled_set_stays_above_the_aim(index: SuggestIndex) -> None:
    result = evaluate(index, read_labelled(HERE / "eval_tickets.csv"))
    assert result.total >= 150
    assert result.top1_accuracy >= 0.90
    assert result.top3_accuracy >= 0.97


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("my pasword got lokced after the weekend", "account-lockout"),
        ("vpm wont conect from hotel", "vpn"),
        ("printr in reception shows papre jam", "printer"),
    ],
)
def test_typos_still_find_the_runbook(index: SuggestIndex, text: str, category: str) -> None:
    assert index.suggest(text)[0].category == category


def test_alert_type_wins_over_text(index: SuggestIndex) -> None:
    best = index.suggest("Site problem at Harbour Dental", alert_type="vpn.tunnel_down")[0]
    assert best.category == "vpn"
    assert "alert type vpn.tunnel_down" in best.why


def test_suggestions_explain_keyword_hits_and_are_ordered(index: SuggestIndex) -> None:
    results = index.suggest("Mimecast is holding an invoice from our supplier", limit=5)
    assert len(results) == 5
    assert results[0].category == "email-quarantine"
    assert "mimecast" in results[0].why
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)


def test_archived_runbooks_are_never_suggested(starter: list[Runbook]) -> None:
    runbooks = [
        replace(rb, status="archived") if rb.category == "printer" else rb for rb in starter
    ]
    results = SuggestIndex(runbooks).suggest("printer jam toner", limit=10)
    assert "printer" not in {r.category for r in results}


def test_no_runbooks_means_no_suggestions() -> None:
    assert SuggestIndex([]).suggest("anything") == []


def test_labelled_csv_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,category\nVPN down,vpn\n,printer\n")
    with pytest.raises(InvalidInput, match=r"bad\.csv:3"):
        read_labelled(bad)


def test_accuracy_on_the_held_out_set_which_tuned_nothing(index: SuggestIndex) -> None:
    result = evaluate(index, read_labelled(HERE / "holdout_tickets.csv"))
    assert result.total >= 200
    assert result.top1_accuracy >= 0.85
    assert result.top3_accuracy >= 0.93


def test_text_similarity_is_scikit_learns_to_the_last_bit(index: SuggestIndex) -> None:
    """The index vectorises a text itself (scikit-learn's per-call checks cost more than the
    arithmetic); the similarities must stay exactly those of `transform`, or rankings drift."""
    texts = [t for t, _ in read_labelled(HERE / "eval_tickets.csv")]
    texts += ["", "zzzz qqqq", "printr in reception shows papre jam"]
    parts = zip(index._vectorizers, index._queries, index._matrices, strict=True)
    for vectorizer, query, matrix in parts:
        for text in texts:
            expected = (matrix @ vectorizer.transform([text.lower()]).T).toarray().ravel()
            assert (matrix @ query.vector(text.lower())).tolist() == expected.tolist()


def test_only_the_best_are_explained_and_in_the_same_order_as_a_full_ranking(
    index: SuggestIndex,
) -> None:
    text = "printer jam toner, and the vpn is down"
    everything = index.suggest(text, limit=100)
    assert len(everything) == len(index.runbooks)
    assert index.suggest(text, limit=2) == everything[:2]
    assert index.suggest(text, limit=-1) == everything[:-1]
    assert index.suggest(text, limit=0) == []
    assert "keywords: printer, print, toner, jam" in everything[0].why  # runbook order
