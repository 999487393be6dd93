"""Realistic tickets walked through every starter runbook, as a new technician would.

Each file in scenarios/ names a runbook and tickets with the answers a technician gives;
the run is recorded on a real ticket (both databases) and must end where the scenario says:
the right ending, level and emergency flag, the ending's done list, and — for an escalation
— a ticket that cannot simply be resolved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from sqlalchemy.orm import Session

from franchise.accounts.service import add_staff
from franchise.bootstrap import initialise
from franchise.clients.facts import set_fact
from franchise.clients.service import add_client
from franchise.errors import Refused
from franchise.flows.runs import begin_run, record_answer
from franchise.runbooks import service as runbooks
from franchise.tickets import lifecycle
from franchise.tickets.service import create_ticket

SCENARIOS = Path(__file__).parent / "scenarios"
STARTER = runbooks.STARTER


def _load() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for path in sorted(SCENARIOS.glob("*.yaml")):
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        for scenario in data["scenarios"]:
            cases.append((str(data["runbook"]), scenario))
    return cases


CASES = _load()


def test_every_starter_runbook_has_three_scenarios_one_of_which_does_not_resolve() -> None:
    keys = {p.stem for p in STARTER.glob("*.yaml")}
    by_runbook: dict[str, list[dict[str, Any]]] = {}
    for key, scenario in CASES:
        by_runbook.setdefault(key, []).append(scenario)
    assert set(by_runbook) == keys
    for key, scenarios in by_runbook.items():
        assert len(scenarios) >= 3, key
        assert any(s["expect"]["outcome"] != "resolved" for s in scenarios), key


@pytest.mark.parametrize(("key", "scenario"), CASES, ids=[f"{k}: {s['name']}" for k, s in CASES])
def test_scenario(session: Session, key: str, scenario: dict[str, Any]) -> None:
    initialise(session)
    tech = add_staff(
        session, name="New Tech", email="new.tech@msp.example", role="technician", level="L1"
    )
    client = add_client(session, name="Harbour Dental")
    for fact, value in (scenario.get("facts") or {}).items():
        set_fact(session, client, fact, str(value), by=None)
    row = runbooks.get_runbook(session, key)
    ticket = create_ticket(
        session,
        title=scenario["ticket"]["title"],
        body=scenario["ticket"].get("body", ""),
        client=client.id,
        category=row.category,
    )
    run = begin_run(session, row, ticket=ticket, actor=tech)
    for step, answer in scenario["answers"]:
        state = runbooks.run_state(session, run)
        answered = {p.step: p.answer for p in state.path}
        if step in answered and step != state.current:
            # Answered from the client profile: the scenario's answer must be the same one.
            assert answered[step].casefold() == str(answer).casefold(), (step, answered[step])
            continue
        assert not state.finished, f"the run ended at '{state.current}' before '{step}'"
        assert state.current == step, f"expected to be at '{step}', the run is at '{state.current}'"
        if state.step.kind == "action":
            # An action step outside the technician's boundary waits for approval: the
            # scenario then states which level it waits for.
            blocked = _pending_level(session, run, step)
            if blocked is not None:
                assert scenario["expect"].get("approval_waits_for") == blocked, step
                return
        state = record_answer(session, run, step=step, reply=str(answer), actor=tech)
    state = runbooks.run_state(session, run)
    expect = scenario["expect"]
    assert state.outcome == expect["outcome"], state.current
    if "step" in expect:
        assert state.current == expect["step"]
    if "level" in expect:
        assert state.level == expect["level"]
    assert state.emergency == bool(expect.get("emergency", False))
    session.refresh(ticket)
    if state.emergency:
        assert ticket.priority == "critical"
    done = lifecycle.done_list(session, ticket)
    for item in expect.get("done_when_includes", []):
        assert item in done.items, (item, done.items)
    for item in expect.get("done_when_excludes", []):
        assert item not in done.items, (item, done.items)
    if state.outcome == "resolved":
        assert done.items, "a resolve ending must come with a done list"
        for item in done.items:
            lifecycle.check_item(session, ticket, item, by=tech)
        lifecycle.resolve_ticket(session, ticket, by=tech)
        assert ticket.status == "resolved"
    else:
        # The run did not resolve the problem: the done list cannot be complete on its own.
        if done.items:
            with pytest.raises(Refused):
                lifecycle.resolve_ticket(session, ticket, by=tech)


def _pending_level(session: Session, run: Any, step: str) -> str | None:
    from franchise.flows.runs import blocked_by

    blocked = blocked_by(session, run, step)
    return None if blocked is None else str(blocked["level"])
