"""The boundary decision table, on the shipped starter boundaries. Pure: no database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from franchise.approvals.boundaries import Boundaries
from franchise.approvals.parse import parse_boundaries
from franchise.approvals.policy import (
    Ask,
    BoundaryDecision,
    decide_by_boundaries,
    make_ask,
    next_level,
    parse_amount,
)
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
  pat@msp.example:
    max_cost: 20
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


@pytest.mark.parametrize(
    ("cost", "status", "approver"),
    [
        (19, "approved", "L1"),
        (20, "approved", "L1"),
        ("20.01", "pending", "L2"),
        (50, "pending", "L2"),
    ],
)
def test_a_person_tighter_than_their_level_goes_to_the_level_above_not_to_peers(
    with_people: Boundaries, cost: int | str, status: str, approver: str
) -> None:
    """Pat is L1 with a personal $20 limit; L1 allows $100. Anything above $20 goes to L2:
    an L1 peer could approve $50 under the level's limit, but Pat's limit is set on Pat's
    level and asking a peer would step around it."""
    decision = decide_by_boundaries(with_people, ask(cost=cost, email="pat@msp.example"))
    assert (decision.status, decision.approver_level) == (status, approver)


def test_a_tighter_person_whose_ask_no_level_covers_goes_to_the_owner(
    with_people: Boundaries,
) -> None:
    decision = decide_by_boundaries(with_people, ask(cost=1001, email="pat@msp.example"))
    assert (decision.status, decision.approver_level) == ("pending", "owner")
    assert decision.reason == (
        "cost 1001 exceeds pat@msp.example limit 20; no boundary covers it, so the owner decides"
    )
    fifty = decide_by_boundaries(with_people, ask(cost=50, email="pat@msp.example"))
    assert (
        fifty.reason == "cost 50 exceeds pat@msp.example limit 20; L2 decides (within its boundary)"
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
        ({"recurring": "weekly"}, r"unknown recurring 'weekly' \(use once, month, year\)"),
    ],
)
def test_bad_input_is_named(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"cost": 0, "minutes": 1, "impact": "none", **kwargs}
    with pytest.raises(InvalidInput, match=message):
        make_ask(action="x", level="L1", **args)  # type: ignore[arg-type]


def test_amounts_are_decimals_with_cents() -> None:
    assert parse_amount("12.5") == Decimal("12.50")
    assert parse_amount(0.1) == Decimal("0.10")


def test_an_ask_without_a_period_is_paid_once() -> None:
    base = {"action": "x", "cost": 10, "minutes": 1, "impact": "none", "level": "L1"}
    assert make_ask(**base).recurring == "once"  # type: ignore[arg-type]
    assert make_ask(**base, recurring=None).recurring == "once"  # type: ignore[arg-type]
    assert make_ask(**base, recurring=" Month ").recurring == "month"  # type: ignore[arg-type]


def test_covers_uses_and_names_the_persons_own_limit(with_people: Boundaries) -> None:
    from franchise.approvals.policy import covers

    # Pat is L1 with a personal $20 limit; L1 itself allows $100.
    assert covers(with_people, "L1", "pat@msp.example", ask(cost=50)) == [
        "cost 50 exceeds pat@msp.example limit 20"
    ]
    assert covers(with_people, "L1", "tom@msp.example", ask(cost=50)) == []


def test_next_level_stops_at_the_owner() -> None:
    assert [next_level(x) for x in ("L1", "L2", "owner")] == ["L2", "owner", None]


# --- edges of the input checks and of the wording (found by `make mutate`) ---------------


def test_input_limits_are_inclusive_at_their_edges() -> None:
    assert make_ask(action="x" * 2000, cost=0, minutes=0, impact="none", level="L1").minutes == 0
    longest = make_ask(action="x", cost=0, minutes=525_600, impact="none", level="L1")
    assert longest.minutes == 525_600
    with pytest.raises(InvalidInput, match="action text is over 2000 characters"):
        make_ask(action="x" * 2001, cost=0, minutes=1, impact="none", level="L1")
    with pytest.raises(InvalidInput, match="between 0 and 525600, got 525601"):
        make_ask(action="x", cost=0, minutes=525_601, impact="none", level="L1")
    kind = "k" * 64
    assert (
        make_ask(action="x", cost=0, minutes=1, impact="none", level="L1", kind=kind).kind == kind
    )
    with pytest.raises(InvalidInput, match="kebab-case"):
        make_ask(action="x", cost=0, minutes=1, impact="none", level="L1", kind="k" * 65)
    assert parse_amount("9999999999.99") == Decimal("9999999999.99")
    with pytest.raises(InvalidInput, match=r"cost 10000000000 is above 9999999999\.99"):
        parse_amount("10000000000")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "  "}, "describe the action to approve (--action)"),
        ({"minutes": True}, "minutes must be a whole number, got True"),
        ({"minutes": 1.5}, "minutes must be a whole number, got 1.5"),
        ({"level": "L3"}, "unknown level 'L3' (use L1, L2, owner)"),
        ({"impact": "huge"}, "unknown impact 'huge' (use none, low, medium, high)"),
        ({"cost": [1]}, "cost '[1]' is not an amount"),
    ],
)
def test_each_input_mistake_has_its_own_message(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "action": "x",
        "cost": 0,
        "minutes": 1,
        "impact": "none",
        "level": "L1",
        **kwargs,
    }
    with pytest.raises(InvalidInput) as error:
        make_ask(**args)  # type: ignore[arg-type]
    assert error.value.message.startswith(message)


def test_an_ask_keeps_its_text_trimmed_and_its_email_lowercase() -> None:
    made = make_ask(
        action="  Renew cert ",
        cost="12.5",
        minutes=5,
        impact="low",
        level="L2",
        email=" Tom@MSP.example ",
    )
    assert made == Ask("Renew cert", Decimal("12.50"), 5, "low", "L2", "tom@msp.example", None)
    assert make_ask(action="x", cost=0, minutes=1, impact="none", level="L1").email == ""


def test_the_owner_is_approved_without_any_boundary() -> None:
    empty, _ = parse_boundaries("levels:\n  L1: {max_cost: 1, max_minutes: 1, impacts: [none]}\n")
    assert empty is not None
    decision = decide_by_boundaries(
        empty, ask(cost=50000, minutes=900, impact="high", level="owner")
    )
    assert decision == BoundaryDecision(
        "approved", "owner", True, "inside the owner boundary (no limit)"
    )


def test_every_problem_is_named_and_joined_in_the_reason(starter: Boundaries) -> None:
    decision = decide_by_boundaries(starter, ask(cost=1500, minutes=600, impact="high"))
    assert decision.reason == (
        "cost 1500 exceeds L1 limit 100; time 600 min exceeds L1 limit 60 min; "
        "impact high is not allowed for L1 (allowed: none, low); "
        "no boundary covers it, so the owner decides"
    )


def test_limits_that_are_not_set_are_named_as_such() -> None:
    from franchise.approvals.boundaries import Limits
    from franchise.approvals.policy import exceeded, within

    no_cost = Limits(None, 30, frozenset({"none"}))
    no_time = Limits(Decimal(5), None, frozenset({"none"}))
    asked = ask(cost=4, minutes=20)
    assert within(no_cost, asked, "L1") == (
        "inside the L1 boundary: no cost limit, 20 of 30 min, impact none allowed"
    )
    assert within(no_time, asked, "L1") == (
        "inside the L1 boundary: cost 4 of 5, no time limit, impact none allowed"
    )
    assert exceeded(Limits(None, None, frozenset()), asked, "L1") == [
        "impact none is not allowed for L1 (allowed: none at all)"
    ]


def test_money_is_written_as_a_person_would() -> None:
    from franchise.approvals.policy import money

    assert (money(Decimal("250.00")), money(Decimal("12.50")), money(Decimal("0"))) == (
        "250",
        "12.50",
        "0",
    )


def test_a_person_on_a_level_without_a_boundary_has_only_what_their_entry_gives() -> None:
    """Fields the person's entry leaves out come from nothing: no money, no time, no impact."""
    parsed, problems = parse_boundaries(
        "levels:\n  L2: {max_cost: 1000, max_minutes: 480, impacts: [none, low]}\n"
        "people:\n  sam@msp.example: {max_cost: 300}\n"
    )
    assert problems == [] and parsed is not None
    decision = decide_by_boundaries(parsed, ask(cost=0, minutes=1, email="sam@msp.example"))
    assert decision.reason == (
        "time 1 min exceeds sam@msp.example limit 0 min; "
        "impact none is not allowed for sam@msp.example (allowed: none at all); "
        "L2 decides (within its boundary)"
    )


def test_a_person_kind_rule_names_the_kind_in_the_reason(with_people: Boundaries) -> None:
    jo = decide_by_boundaries(
        with_people, ask(cost=250, kind="licence-purchase", email="jo@msp.example")
    )
    assert jo.reason.startswith("cost 250 exceeds jo@msp.example limit 200 for licence-purchase;")


def test_a_yes_or_no_is_not_an_amount() -> None:
    with pytest.raises(InvalidInput) as error:
        parse_amount(True)
    assert error.value.message == "cost 'True' is not an amount"


def test_a_person_entry_without_a_cost_on_a_level_without_a_boundary_allows_no_cost() -> None:
    parsed, problems = parse_boundaries(
        "levels:\n  L2: {max_cost: 1000, max_minutes: 480, impacts: [none, low]}\n"
        "people:\n  sam@msp.example: {max_minutes: 60, impacts: [none]}\n"
    )
    assert problems == [] and parsed is not None
    decision = decide_by_boundaries(parsed, ask(cost=1, minutes=5, email="sam@msp.example"))
    assert decision.reason == (
        "cost 1 exceeds sam@msp.example limit 0; L2 decides (within its boundary)"
    )


def test_a_person_kind_rule_for_a_kind_the_level_does_not_name_is_labelled() -> None:
    parsed, problems = parse_boundaries(
        "levels:\n  L1: {max_cost: 100, max_minutes: 60, impacts: [none, low]}\n"
        "  L2: {max_cost: 1000, max_minutes: 480, impacts: [none, low]}\n"
        "people:\n  jo@msp.example:\n    kinds: {firewall-change: {max_cost: 10}}\n"
    )
    assert problems == [] and parsed is not None
    decision = decide_by_boundaries(
        parsed, ask(cost=20, kind="firewall-change", email="jo@msp.example")
    )
    assert decision.reason.startswith(
        "cost 20 exceeds jo@msp.example limit 10 for firewall-change;"
    )


def test_covers_applies_the_kind_rule_and_names_the_level(starter: Boundaries) -> None:
    from franchise.approvals.policy import covers

    licence = ask(cost=60, kind="licence-purchase")
    assert covers(starter, "L1", "ana@msp.example", licence) == [
        "cost 60 exceeds L1 limit 50 for licence-purchase"
    ]
    assert covers(starter, "L2", "", licence) == []
    assert covers(starter, "owner", "", ask(cost=50000, impact="high")) == []
