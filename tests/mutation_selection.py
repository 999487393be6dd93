"""pytest plugin for `make mutate`: each mutated module is tried against its own tests only.

mutmut runs, for a mutant, every selected test that reached the mutated function. With
`-p tests.mutation_selection` (set in `[tool.mutmut]`), a mutant of a module below runs only
the tests listed for it: the pure unit tests written for that module, none of which opens a
database or a browser (each mutant is a fresh pytest session, so a database fixture would be
migrated again for every mutant). Without a mutant under test (mutmut's clean run and its
coverage run) nothing is deselected.
"""

from __future__ import annotations

import os

import pytest

# Module -> the tests that own it. Their union is `pytest_add_cli_args_test_selection`
# (tests/test_mutation_selection.py keeps the two in step).
_RUNBOOKS = (
    "tests/runbooks/test_engine.py",
    "tests/runbooks/test_graph.py",
    "tests/runbooks/test_format_v2.py",
    "tests/runbooks/test_lint.py",
    "tests/runbooks/test_flowchart.py",
    "tests/runbooks/test_properties.py",
    "tests/runbooks/test_starter_library.py",
    "tests/runbooks/test_account_safety.py",
)
_KPI = (
    "tests/contacts/test_kpi.py",
    "tests/contacts/test_hours.py",
)
TESTS_BY_MODULE: dict[str, tuple[str, ...]] = {
    "franchise.runbooks.engine": _RUNBOOKS,
    "franchise.runbooks.graph": _RUNBOOKS,
    "franchise.escalation.evaluate": ("tests/escalation/test_evaluate.py",),
    # test_kinds: the action kinds a request's text implies (decide_by_boundaries).
    "franchise.approvals.policy": (
        "tests/approvals/test_policy.py",
        "tests/approvals/test_kinds.py",
    ),
    "franchise.contacts.kpi": _KPI,
    "franchise.contacts.hours": _KPI,
    "franchise.suggest.index": (
        "tests/suggest/test_suggest.py",
        "tests/suggest/test_calibration.py",
        "tests/suggest/test_alert_types.py",
    ),
    # The TF-IDF itself: scikit-learn's figures to the last bit (tfidf_reference.json).
    "franchise.suggest.tfidf": (
        "tests/suggest/test_tfidf.py",
        "tests/suggest/test_suggest.py",
    ),
    "franchise.alerts.transitions": ("tests/alerts/test_transitions.py",),
}


def module_of(mutant: str) -> str | None:
    """The mutated module of a mutant name such as `franchise.runbooks.engine.x_replay__mutmut_3`."""
    for module in TESTS_BY_MODULE:
        if mutant.startswith(module + "."):
            return module
    return None


# The session fixtures every database and browser test stands on. A mutation run whose
# selection reaches one of them would pay a migration or a browser start per mutant.
SLOW_FIXTURES = frozenset({"engine", "browser"})


def slow_items(items: list[pytest.Item]) -> list[str]:
    """The tests among `items` that open a database or a browser."""
    return [item.nodeid for item in items if SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    under_test = os.environ.get("MUTANT_UNDER_TEST")
    if under_test is None:
        return
    # mutmut's stats and clean runs collect the whole selection: stop there, before any
    # mutant, if a selected test needs a database or a browser.
    slow = slow_items(items)
    if slow:
        raise pytest.UsageError(
            "make mutate selects only pure tests; these need a database or a browser: "
            + ", ".join(slow)
        )
    module = module_of(under_test)
    if module is None:
        return
    paths = TESTS_BY_MODULE[module]
    keep, dropped = [], []
    for item in items:
        path = item.nodeid.split("::", 1)[0].removeprefix("mutants/")
        (keep if path in paths else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
