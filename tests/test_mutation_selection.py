"""`make mutate` tries each module against its own tests: the plugin's table and mutmut's
test selection name the same files, and every file exists."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.mutation_selection import TESTS_BY_MODULE, module_of, pytest_collection_modifyitems

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


def test_a_mutant_is_matched_to_its_module_by_name() -> None:
    assert module_of("franchise.runbooks.engine.x_replay__mutmut_3") == "franchise.runbooks.engine"
    assert module_of("franchise.runbooks.engine_extra.x_f__mutmut_1") is None
    assert module_of("") is None
    assert module_of("fail") is None


class _Item:
    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid


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
