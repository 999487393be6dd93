"""The pure scoring rules: interruption points, bottleneck ties, write-next."""

from __future__ import annotations

from typing import Any

import pytest

from franchise.audit.score import (
    WEIGHTS,
    AuditFacts,
    bottleneck,
    build_audit,
    interruption_points_share,
)
from franchise.runbooks.definition import CATEGORIES


def test_weights_sum_to_100() -> None:
    assert sum(WEIGHTS.values()) == 100


@pytest.mark.parametrize(
    ("average", "target", "share"),
    [
        (0, 2, 1.0),
        (2, 2, 1.0),  # at the target: full points
        (6, 2, 0.5),  # zero at max(5 x 2, 10) = 10: (10 - 6) / (10 - 2)
        (10, 2, 0.0),
        (14, 2, 0.0),
        (3, 0, 0.7),  # target 0: zero at 10
        (15, 4, 0.3125),  # zero at 20: (20 - 15) / (20 - 4) = 5/16
    ],
)
def test_interruption_points_fall_linearly_from_target(
    average: float, target: float, share: float
) -> None:
    assert interruption_points_share(average, target) == pytest.approx(share)


def test_bottleneck_ties_follow_the_documented_order() -> None:
    assert bottleneck({}) is None
    assert bottleneck({"other": 9}) is None
    assert bottleneck({"approval": 3, "escalation": 2}) == "approvals"
    assert bottleneck({"approval": 2, "escalation": 2}) == "approvals"
    assert bottleneck({"escalation": 2, "customer_communication": 2}) == "escalations"
    assert (
        bottleneck({"customer_communication": 2, "technical_decision": 2})
        == "customer_communication"
    )
    assert bottleneck({"technical_decision": 1, "other": 5}) == "technical_decisions"


def facts(**changes: Any) -> AuditFacts:
    base: dict[str, Any] = {
        "four_week_average": 0.0,
        "target_max": 2,
        "busiest": [],
        "known_categories": CATEGORIES,
        "runbook_of": {},
        "validated_categories": frozenset(CATEGORIES),
        "runbooks_active": 10,
        "runbooks_fresh_validated": 10,
        "escalation_map_stored": True,
        "boundaries_stored": True,
        "drill_held": True,
        "drill_reviewed": True,
        "drill_detail": "",
        "lessons_due": 2,
        "lessons_on_time": 2,
        "lessons_overdue": 0,
        "interruptions_by_reason": {},
    }
    base.update(changes)
    return AuditFacts(**base)


def test_perfect_facts_score_100_with_no_bottleneck() -> None:
    report = build_audit(facts())
    assert report["score"] == 100
    assert report["bottleneck"] is None
    assert report["bottleneck_detail"] == "no interruptions in the last 28 days"
    assert report["next_actions"] == []
    assert report["write_next"] is None


def test_write_next_prefers_the_busiest_uncovered_category() -> None:
    report = build_audit(
        facts(
            busiest=[("vpn", 9), ("backup", 5), ("printer", 2)],
            validated_categories=frozenset({"vpn"}),
            runbook_of={"backup": "backup-draft"},
            owner_categories=[("vpn", 7)],
        )
    )
    assert report["write_next"] == {
        "category": "backup",
        "reason": "busiest category without a validated runbook: 5 tickets in 56 days",
        "runbook": "backup-draft",
    }
