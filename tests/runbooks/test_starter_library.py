"""The starter library shipped with Franchise: ten lint-clean runbooks, one per category."""

from __future__ import annotations

from pathlib import Path

import pytest

from franchise.runbooks import engine, graph
from franchise.runbooks.definition import CATEGORIES, Runbook
from franchise.runbooks.lint import lint_files
from franchise.runbooks.service import STARTER
from tests.runbooks.routes import route_to


def load_library() -> list[tuple[str, Runbook]]:
    # Lint problems are asserted in their own test; here only the parsed runbooks matter.
    return lint_files([STARTER]).runbooks


LIBRARY = load_library() if STARTER.is_dir() else []
BY_CATEGORY = {rb.category: rb for _, rb in LIBRARY}
IDS = [Path(path).name for path, _ in LIBRARY]


@pytest.fixture(scope="module")
def vpn() -> Runbook:
    return BY_CATEGORY["vpn"]


def test_starter_folder_holds_exactly_ten_runbook_files() -> None:
    files = sorted(p.name for p in STARTER.iterdir() if p.suffix in (".yaml", ".yml"))
    assert len(files) == 10, files
    assert len(LIBRARY) == 10


def test_starter_library_is_lint_clean() -> None:
    report = lint_files([STARTER])
    assert report.problems == [], "\n".join(p.format() for p in report.problems)


def test_one_runbook_per_category() -> None:
    categories = [rb.category for _, rb in LIBRARY]
    assert sorted(categories) == sorted(CATEGORIES)


def test_runbook_keys_are_unique() -> None:
    keys = [rb.key for _, rb in LIBRARY]
    assert len(set(keys)) == len(keys) == 10


@pytest.mark.parametrize(("path", "runbook"), LIBRARY, ids=IDS)
def test_runbook_has_a_reachable_resolve_and_escalation_to_l2(path: str, runbook: Runbook) -> None:
    reached = graph.reachable(runbook)
    kinds = {(s.kind, s.to) for sid, s in runbook.steps.items() if sid in reached}
    assert any(kind == "resolve" for kind, _ in kinds), path
    assert ("escalate", "L2") in kinds, path


@pytest.mark.parametrize(("path", "runbook"), LIBRARY, ids=IDS)
def test_every_action_step_has_an_estimate(path: str, runbook: Runbook) -> None:
    for step in runbook.steps.values():
        if step.kind != "action":
            continue
        assert step.estimate is not None, f"{path}: {step.id}"
        assert step.estimate.minutes >= 0
        assert step.estimate.cost >= 0


@pytest.mark.parametrize(("path", "runbook"), LIBRARY, ids=IDS)
def test_done_when_and_edge_cases_are_filled_in(path: str, runbook: Runbook) -> None:
    assert runbook.done_when, path
    assert all(item.strip() for item in runbook.done_when), path
    assert runbook.edge_cases, path
    for case in runbook.edge_cases:
        assert case.when, path
        assert case.do, path


@pytest.mark.parametrize(("path", "runbook"), LIBRARY, ids=IDS)
def test_every_terminal_step_is_reached_by_a_replayable_path(path: str, runbook: Runbook) -> None:
    for step in runbook.steps.values():
        if not step.is_terminal:
            continue
        route = route_to(runbook, step.id)
        assert route is not None, f"{path}: {step.id}"
        state = engine.replay(runbook, route)
        assert state.current == step.id
        assert state.finished


def test_vpn_certificate_renewal_leads_to_a_resolve(vpn: Runbook) -> None:
    renew = vpn.steps["renew-certificate"]
    assert renew.kind == "action"
    assert renew.estimate is not None
    assert renew.estimate.cost == 0
    assert renew.estimate.minutes == 20

    to_renew = route_to(vpn, "renew-certificate")
    assert to_renew is not None
    state = engine.replay(vpn, to_renew)
    assert state.current == "renew-certificate"
    assert state.outcome == "incomplete"

    resolving = [
        label for label, target in renew.options.items() if vpn.steps[target].kind == "resolve"
    ]
    assert resolving, renew.options
    state = engine.answer(state, resolving[0])
    assert state.finished
    assert state.outcome == "resolved"
    assert [e.step for e in state.path][-1] == "renew-certificate"
    assert state.path[0].step == vpn.start


def test_vpn_domain_controller_trouble_escalates_to_the_owner(vpn: Runbook) -> None:
    dc = vpn.steps["dc-trouble"]
    assert dc.kind == "escalate"
    assert dc.to == "owner"
    assert "domain controller" in dc.text.lower()

    route = route_to(vpn, "dc-trouble")
    assert route is not None
    state = engine.replay(vpn, route)
    assert state.current == "dc-trouble"
    assert state.to_dict()["outcome"] == "escalate"
    assert state.level == "owner"
