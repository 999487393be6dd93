"""The boundary decision table, on the shipped starter boundaries. Pure: no database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from franchise.approvals.boundaries import Boundaries
from franchise.approvals.parse import parse_boundaries
from franchise.approvals.policy import Ask, decide_by_boundaries, make_ask, next_level, parse_amount
from franchise.approvals.service import STARTER_BOUNDARIES
from franchise.errors import InvalidInput


@pytest.fixture(scope="module")
def starter() -> Boundaries:
    parsed, problems = parse_boundaries(STARTER_BOUNDARIES.read_text(encoding="utf-8"))
    assert problems == []
    assert parsed is not None
    return parsed


def ask(
    cost: str | int = 0,
    minutes: int = 10,
    impact: str = "none",
    level: str = "L1",
    kind: str | None = None,
    email: str = "tom@msp.example",
) -> Ask:
    return make_ask(
        action="do it",
        cost=cost,
        minutes=minutes,
        impact=impact,
        level=level,
        kind=kind,
        email=email,
    )


@pytest.mark.parametrize(
    ("request_", "status", "level", "reason_part"),
    [
        (ask(cost=40, minutes=30, impact="low"), "approved", "L1", "inside the L1 boundary"),
        (ask(cost=100, minutes=60, impact="low"), "approved", "L1", "cost 100 of 100"),
        (ask(cost=250), "pending", "L2", "cost 250 exceeds L1 limit 100"),
        (ask(cost="100.01"), "pending", "L2", "cost 100.01 exceeds L1 limit 100"),
        (ask(minutes=90), "pending", "L2", "time 90 min exceeds L1 limit 60 min"),
        (ask(impact="medium"), "pending", "L2", "impact medium is not allowed for L1"),
        (ask(cost=1500), "pending", "owner", "no boundary covers it, so the owner decides"),
        (ask(minutes=600), "pending", "owner", "time 600 min exceeds L1 limit 60 min"),
        (ask(cost=900, level="L2", impact="high"), "approved", "L2", "inside the L2 boundary"),
        (ask(cost=1001, level="L2"), "pending", "owner", "cost 1001 exceeds L2 limit 1000"),
        (ask(cost=50000, level="owner", impact="high"), "approved", "owner", "no limit"),
    ],
)
def test_boundary_decision_table(
    starter: Boundaries, request_: Ask, status: str, level: str, reason_part: str
) -> None:
    decision = decide_by_boundaries(starter, request_)
    assert (decision.status, decision.approver_level) == (status, level)
    assert decision.by_policy is (status == "approved")
    assert reason_part in decision.reason


def test_high_impact_for_l1_waits_on_l2_because_l2_allows_high(starter: Boundaries) -> None:
    decision = decide_by_boundaries(starter, ask(impact="high", minutes=120))
    assert (decision.status, decision.approver_level) == ("pending", "L2")
    assert "impact high is not allowed for L1 (allowed: none, low)" in decision.reason
    assert "time 120 min exceeds L1 limit 60 min" in decision.reason


def test_vpn_certificate_renewal_is_approved_by_policy_for_l1(starter: Boundaries) -> None:
    decision = decide_by_boundaries(starter, ask(cost=0, minutes=20, impact="low"))
    assert decision.status == "approved"
    assert decision.by_policy
    assert (
        decision.reason == "inside the L1 boundary: cost 0 of 100, 20 of 60 min, impact low allowed"
    )


def test_laptop_reimage_with_high_impact_waits_for_l2(starter: Boundaries) -> None:
    decision = decide_by_boundaries(starter, ask(cost=0, minutes=120, impact="high"))
    assert (decision.status, decision.approver_level, decision.by_policy) == (
        "pending",
        "L2",
        False,
    )


def test_kind_limit_is_tighter_than_the_level_limit(starter: Boundaries) -> None:
    inside = decide_by_boundaries(starter, ask(cost=22, kind="licence-purchase"))
    assert inside.status == "approved"
    assert "for licence-purchase" in inside.reason
    over = decide_by_boundaries(starter, ask(cost=80, kind="licence-purchase"))
    assert (over.status, over.approver_level) == ("pending", "L2")
    assert "cost 80 exceeds L1 limit 50 for licence-purchase" in over.reason
    # Without the kind, 80 is inside L1's general limit.
    assert decide_by_boundaries(starter, ask(cost=80)).status == "approved"


def test_kind_rule_can_raise_a_higher_levels_limit(starter: Boundaries) -> None:
    laptop = decide_by_boundaries(starter, ask(cost=1200, kind="hardware-purchase"))
    assert (laptop.status, laptop.approver_level) == ("pending", "L2")
    assert "cost 1200 exceeds L1 limit 100;" in laptop.reason  # L1 has no hardware rule
    assert decide_by_boundaries(starter, ask(cost=1200)).approver_level == "owner"


def test_kind_not_allowed_for_a_level_goes_up(starter: Boundaries) -> None:
    decision = decide_by_boundaries(starter, ask(kind="firewall-change"))
    assert (decision.status, decision.approver_level) == ("pending", "L2")
    assert "firewall-change actions are not allowed for L1" in decision.reason


PEOPLE = """
levels:
  L1: {max_cost: 100, max_minutes: 60, impacts: [none, low],
       kinds: {licence-purchase: {max_cost: 50}}}
  L2: {max_cost: 1000, max_minutes: 480, impacts: [none, low, medium, high]}
  owner: unlimited
people:
  sam@msp.example:
    max_cost: 300
    impacts: [none, low, medium]
  jo@msp.example:
    kinds: {licence-purchase: {max_cost: 200}}
  cfo@msp.example: unlimited
"""


@pytest.fixture(scope="module")
def with_people() -> Boundaries:
    parsed, problems = parse_boundaries(PEOPLE)
    assert problems == []
    assert parsed is not None
    return parsed


def test_person_override_comes_before_the_level(with_people: Boundaries) -> None:
    sam = decide_by_boundaries(with_people, ask(cost=250, impact="medium", email="sam@msp.example"))
    assert sam.status == "approved"
    assert "inside the sam@msp.example boundary: cost 250 of 300" in sam.reason
    # Fields Sam's entry does not set come from L1.
    slow = decide_by_boundaries(with_people, ask(minutes=90, email="sam@msp.example"))
    assert (slow.status, slow.approver_level) == ("pending", "L2")
    assert "time 90 min exceeds sam@msp.example limit 60 min" in slow.reason
    # Others at L1 keep the level's limit.
    assert (
        decide_by_boundaries(with_people, ask(cost=250, email="tom@msp.example")).status
        == "pending"
    )


def test_level_kind_rule_still_caps_a_person_unless_their_entry_names_the_kind(
    with_people: Boundaries,
) -> None:
    sam = decide_by_boundaries(
        with_people, ask(cost=120, kind="licence-purchase", email="sam@msp.example")
    )
    assert sam.status == "pending"
    assert "cost 120 exceeds sam@msp.example limit 50 for licence-purchase" in sam.reason
    jo = decide_by_boundaries(
        with_people, ask(cost=120, kind="licence-purchase", email="jo@msp.example")
    )
    assert jo.status == "approved"


def test_unlimited_person_is_approved_for_anything(with_people: Boundaries) -> None:
    big = ask(
        cost=9000, minutes=900, impact="high", kind="licence-purchase", email="cfo@msp.example"
    )
    assert decide_by_boundaries(with_people, big).status == "approved"


def test_a_missing_level_approves_nothing_itself() -> None:
    parsed, problems = parse_boundaries(
        "levels:\n  L2: {max_cost: 10, max_minutes: 10, impacts: [none]}\n"
    )
    assert parsed is not None
    assert problems == []
    decision = decide_by_boundaries(parsed, ask(cost=0, minutes=1))
    assert (decision.status, decision.approver_level) == ("pending", "L2")
    assert "L1 has no approval boundary" in decision.reason


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cost": "-1"}, "negative"),
        ({"cost": "abc"}, "not an amount"),
        ({"cost": "1.234"}, "more than two decimals"),
        ({"cost": "NaN"}, "not an amount"),
        ({"minutes": -5}, "between 0 and"),
        ({"impact": "huge"}, "unknown impact 'huge'"),
        ({"kind": "Licence Purchase"}, "kebab-case"),
    ],
)
def test_bad_input_is_named(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"cost": 0, "minutes": 1, "impact": "none", **kwargs}
    with pytest.raises(InvalidInput, match=message):
        make_ask(action="x", level="L1", **args)  # type: ignore[arg-type]


def test_amounts_are_decimals_with_cents() -> None:
    assert parse_amount("12.5") == Decimal("12.50")
    assert parse_amount(0.1) == Decimal("0.10")


def test_next_level_stops_at_the_owner() -> None:
    assert [next_level(x) for x in ("L1", "L2", "owner")] == ["L2", "owner", None]
