"""`make mutate` tries each module against its own tests: the plugin's table and mutmut's
test selection name the same files, and every file exists."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from tests.mutation_selection import (
    TESTS_BY_MODULE,
    module_of,
    pytest_collection_modifyitems,
    slow_items,
)

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]


def test_the_selection_is_the_union_of_the_modules_tests() -> None:
    union = {path for paths in TESTS_BY_MODULE.values() for path in paths}
    assert set(CONFIG["pytest_add_cli_args_test_selection"]) == union
    assert all((ROOT / path).is_file() for path in union)
    assert "tests.mutation_selection" in CONFIG["pytest_add_cli_args"]


def test_every_mutated_module_has_its_tests() -> None:
    mutated = {
        p.removeprefix("src/").removesuffix(".py").replace("/", ".") for p in CONFIG["only_mutate"]
    }
    assert mutated == set(TESTS_BY_MODULE)


def test_every_listed_equivalent_mutant_is_of_a_mutated_module_and_says_why() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from mutation_summary import equivalents
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    listed = equivalents()
    assert listed
    for name, why in listed.items():
        assert module_of(name) is not None and "__mutmut_" in name, name
        assert len(why.split()) >= 3, name


def test_a_mutant_is_matched_to_its_module_by_name() -> None:
    assert module_of("franchise.runbooks.engine.x_replay__mutmut_3") == "franchise.runbooks.engine"
    assert module_of("franchise.runbooks.engine_extra.x_f__mutmut_1") is None
    assert module_of("") is None
    assert module_of("fail") is None


class _Item:
    def __init__(self, nodeid: str, fixturenames: tuple[str, ...] = ()) -> None:
        self.nodeid = nodeid
        self.fixturenames = list(fixturenames)


class _Hook:
    def __init__(self) -> None:
        self.deselected: list[_Item] = []

    def pytest_deselected(self, items: list[_Item]) -> None:
        self.deselected.extend(items)


class _Config:
    def __init__(self) -> None:
        self.hook = _Hook()


def test_only_the_modules_own_tests_run_for_its_mutant(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [
        _Item("tests/escalation/test_evaluate.py::test_a"),
        _Item("mutants/tests/escalation/test_evaluate.py::test_b"),
        _Item("tests/runbooks/test_scenarios.py::test_c[sqlite]"),
    ]
    config = _Config()
    monkeypatch.setenv("MUTANT_UNDER_TEST", "franchise.escalation.evaluate.x_evaluate__mutmut_7")
    pytest_collection_modifyitems(config, items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == [
        "tests/escalation/test_evaluate.py::test_a",
        "mutants/tests/escalation/test_evaluate.py::test_b",
    ]
    assert [i.nodeid for i in config.hook.deselected] == [
        "tests/runbooks/test_scenarios.py::test_c[sqlite]"
    ]


def test_without_a_mutant_nothing_is_deselected(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [_Item("tests/runbooks/test_scenarios.py::test_c")]
    config = _Config()
    monkeypatch.setenv("MUTANT_UNDER_TEST", "stats")
    pytest_collection_modifyitems(config, items)  # type: ignore[arg-type]
    assert len(items) == 1 and config.hook.deselected == []


def test_a_selected_test_that_needs_a_database_or_a_browser_stops_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    items = [
        _Item("tests/escalation/test_evaluate.py::test_a", ("request",)),
        _Item("tests/contacts/test_counts.py::test_b[sqlite]", ("session", "db", "engine")),
        _Item("tests/web/test_x.py::test_c", ("page", "browser")),
    ]
    assert slow_items(items) == [  # type: ignore[arg-type]
        "tests/contacts/test_counts.py::test_b[sqlite]",
        "tests/web/test_x.py::test_c",
    ]
    monkeypatch.setenv("MUTANT_UNDER_TEST", "")  # mutmut's clean run
    with pytest.raises(pytest.UsageError, match="test_counts"):
        pytest_collection_modifyitems(_Config(), items)  # type: ignore[arg-type]
    monkeypatch.delenv("MUTANT_UNDER_TEST")  # an ordinary test run: nothing checked
    pytest_collection_modifyitems(_Config(), items)  # type: ignore[arg-type]
    assert len(items) == 3
