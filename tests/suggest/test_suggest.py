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
from franchise.suggest.index import SuggestIndex, _document

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


def test_text_similarity_is_the_mean_of_the_two_tfidf_likenesses(index: SuggestIndex) -> None:
    """The evidence's similarity is the mean of the character and word n-gram likenesses
    (tests/suggest/test_tfidf.py checks each against scikit-learn's own figures)."""
    text = "printr in reception shows papre jam"
    match = index.match(text)
    best = index.runbooks.index(
        next(r for r in index.runbooks if r.key == match.suggestions[0].key)
    )
    char, word = (t.similarities(text)[best] for t in index._texts)
    assert match.evidence is not None
    assert match.evidence.similarity == (0 + char + word) / 2
    assert char > 0 and word > 0


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


# --- the scoring formula on a one-runbook index (found by `make mutate`) ------------------

TINY = """\
key: tiny
title: Printer jam
category: printer-jam
status: draft
match:
  keywords: [printer, toner, ipv6, jam, tray]
  alert_types: [printer.jam]
start: look
steps:
  look:
    kind: check
    text: Is paper stuck in the printer?
    options: {"Yes": fixed, "No": fixed}
  fixed:
    kind: resolve
    text: Paper removed.
"""


def _tiny_runbook(source: str = TINY) -> Runbook:
    from franchise.runbooks.lint import lint_source

    parsed, problems = lint_source(source, "tiny.yaml")
    assert parsed is not None, problems
    return parsed


# Built for each test: `make mutate` runs a mutant only against the tests that reached it, and
# a module-wide index would count the keyword patterns as reached by the first test alone.
@pytest.fixture
def tiny() -> SuggestIndex:
    return SuggestIndex([_tiny_runbook()])


@pytest.mark.parametrize(
    ("text", "score", "why"),
    [
        # One runbook: its text score is 1 (its likeness over the best likeness).
        ("the printer again", 0.4 * 0.5 + 0.6, "keywords: printer; text similarity"),
        ("printer out of toner", 0.4 * 0.75 + 0.6, "keywords: printer, toner; text similarity"),
        ("paper stuck", 0.6, "text similarity"),
        ("zzz", 0.0, "text similarity 0.00"),
    ],
)
def test_score_is_four_tenths_keywords_and_six_tenths_likeness(
    tiny: SuggestIndex, text: str, score: float, why: str
) -> None:
    (found,) = tiny.suggest(text)
    assert found.score == pytest.approx(score)
    assert found.why.startswith(why)
    assert (found.key, found.category, found.title) == ("tiny", "printer-jam", "Printer jam")


def test_a_matching_alert_type_adds_exactly_one(tiny: SuggestIndex) -> None:
    (plain,) = tiny.suggest("the printer again")
    (typed,) = tiny.suggest("the printer again", alert_type="printer.jam")
    (other,) = tiny.suggest("the printer again", alert_type="disk.full")
    assert typed.score == pytest.approx(plain.score + 1.0)
    assert other.score == pytest.approx(plain.score)
    assert typed.why.startswith("alert type printer.jam; keywords: printer;")
    assert other.why.startswith("keywords: printer;")


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("PRINTERS down", True),  # any case; four letters or more take a short suffix
        ("printerxxxx", False),  # ... of at most three letters
        ("blueprinter", False),  # whole words only
        ("jams", False),  # three letters: no suffix
        ("paper trays", True),  # four letters take the suffix too
        ("traysxxx", False),
        ("ipv6s", False),  # ends in a digit: no suffix
        ("ipv6 only", True),
    ],
)
def test_keywords_match_whole_words_with_a_short_suffix(
    tiny: SuggestIndex, text: str, hit: bool
) -> None:
    (found,) = tiny.suggest(text)
    assert ("keywords:" in found.why) is hit


def test_a_suggestion_as_a_dict_rounds_the_score_to_four_places(tiny: SuggestIndex) -> None:
    (found,) = tiny.suggest("printer out of toner")
    shown = found.to_dict()
    assert shown.pop("why").startswith("keywords: printer, toner; text similarity ")
    assert shown == {"key": "tiny", "category": "printer-jam", "title": "Printer jam", "score": 0.9}


def test_a_runbooks_document_is_its_words_with_the_keywords_twice() -> None:
    """Title, description (none here), category words, keywords twice, then step texts."""
    assert _document(_tiny_runbook()) == "\n".join(
        [
            "printer jam",
            "",
            "printer jam",
            *["printer", "toner", "ipv6", "jam", "tray"] * 2,
            "is paper stuck in the printer?",
            "paper removed.",
        ]
    )
    edge = _tiny_runbook(
        TINY.replace("status: draft\n", "status: draft\ndescription: Tray JAMS.\n")
        + "edge_cases:\n  - when: Toner Empty\n    do: Order more\n"
    )
    assert _document(edge).split("\n")[1] == "tray jams."
    assert _document(edge).endswith("paper removed.\ntoner empty order more")


def test_three_suggestions_unless_asked_otherwise(index: SuggestIndex) -> None:
    text = "printer jam toner, and the vpn is down"
    assert len(index.suggest(text)) == 3
    assert len(index.match(text).suggestions) == 3
    assert index.match(text).suggestions == index.suggest(text, limit=10)[:3]


def _two_printers(second_title: str) -> list[Runbook]:
    first = _tiny_runbook()
    second = _tiny_runbook(
        TINY.replace("key: tiny", "key: other").replace("title: Printer jam", second_title)
    )
    return [first, second]


def test_the_margin_is_over_the_runner_up_or_the_whole_likeness_alone() -> None:
    text = "paper stuck in the printer"
    alone = SuggestIndex([_tiny_runbook()]).match(text)
    assert alone.evidence is not None
    assert alone.evidence.similarity > 0
    assert alone.evidence.margin == alone.evidence.similarity  # no runner-up: less 0

    # The same keywords, so the text likeness alone orders the two.
    two = SuggestIndex(_two_printers("title: Toner order"))
    characters, words = two._texts
    likeness = sorted(
        ((characters.similarities(text) + words.similarities(text)) / 2).tolist(), reverse=True
    )
    assert likeness[1] > 0
    match = two.match(text)
    assert match.evidence is not None
    assert (match.evidence.similarity, match.evidence.margin) == pytest.approx(
        (likeness[0], likeness[0] - likeness[1])
    )


def test_only_an_alert_type_the_best_runbook_claims_makes_it_certain(tiny: SuggestIndex) -> None:
    plain = tiny.match("the printer again")
    other = tiny.match("the printer again", alert_type="disk.full")
    typed = tiny.match("the printer again", alert_type="printer.jam")
    assert plain.evidence is not None
    assert 0 < plain.confidence < 1
    assert (other.confidence, other.evidence) == (plain.confidence, plain.evidence)
    assert (typed.confidence, typed.evidence) == (1.0, None)
    assert [s.key for s in typed.suggestions] == ["tiny"]
