"""The audit on small hand-built data; expected points are worked out in the comments."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff, create_token
from franchise.approvals.service import request_approval
from franchise.audit.service import audit
from franchise.db import Database
from franchise.drills.models import Drill, ReviewItem
from franchise.lessons.models import Lesson
from franchise.policydocs.models import PolicyRevision
from franchise.runbooks.models import Runbook
from franchise.tickets.service import change_ticket
from tests.lessons.helpers import NOW, Invoker, api_client, contact, starter, tickets


def points(report: dict[str, Any]) -> dict[str, float]:
    return {c["name"]: c["points"] for c in report["components"]}


def component(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in report["components"] if c["name"] == name)


def test_starter_library_alone_scores_75(session: Session, runbooks: dict[str, Runbook]) -> None:
    # interruptions 30 (average 0) + coverage 20 (10 of 10 known categories, no tickets yet)
    # + fresh 15 (10 of 10 validated, revised 10 days ago) + policies 10 + drill 0 + lessons 0.
    report = audit(session, now=NOW)
    assert points(report) == {
        "interruptions": 30,
        "runbook_coverage": 20,
        "fresh_runbooks": 15,
        "policies": 10,
        "drill": 0,
        "lessons_on_time": 0,
    }
    assert report["score"] == 75
    assert report["bottleneck"] is None
    assert report["bottleneck_detail"] == "no interruptions in the last 28 days"
    assert report["next_actions"] == ["hold an owner-offline drill"]
    assert report["write_next"] is None


def test_interruption_points_from_the_four_week_average(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    # Six interruptions on the Tuesday of each of the four complete weeks before the current
    # one (weeks of 9, 16, 23 Feb and 2 Mar): average 6, so 30 x (10 - 6) / (10 - 2) = 15.
    for week in range(1, 5):
        for _ in range(6):
            contact(session, "other", at=NOW - timedelta(weeks=week, days=1))
    contact(session, "other", at=NOW - timedelta(hours=1))  # current week: not averaged
    contact(session, "other", at=NOW - timedelta(weeks=5, days=1))  # five weeks back
    contact(session, "other", at=NOW - timedelta(weeks=2), outcome="deflection")
    report = audit(session, now=NOW)
    part = component(report, "interruptions")
    assert (part["value"], part["points"]) == (6.0, 15.0)


def test_coverage_of_busiest_categories_and_write_next(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    runbooks["backup-missing"].status = "draft"
    tickets(session, "vpn", 5, days_ago=3)
    tickets(session, "patching", 4, days_ago=10)
    tickets(session, "backup", 3, days_ago=20)
    tickets(session, "printer", 6, days_ago=60)  # older than 56 days: not among the busiest
    report = audit(session, now=NOW)
    # vpn and patching of {vpn, patching, backup} have a validated runbook: 20 x 2/3 = 13.3.
    part = component(report, "runbook_coverage")
    assert (part["value"], part["points"]) == (0.667, 13.3)
    assert "missing: backup" in part["detail"]
    assert report["write_next"] == {
        "category": "backup",
        "reason": "busiest category without a validated runbook: 3 tickets in 56 days",
        "runbook": "backup-missing",
    }


def test_fresh_runbooks_share(session: Session, runbooks: dict[str, Runbook]) -> None:
    runbooks["backup-missing"].status = "draft"  # active, not validated
    runbooks["printer-problem"].status = "archived"  # left out
    for key in ("vpn-auth-failure", "patch-stuck", "mfa-problem", "disk-space-low"):
        runbooks[key].updated_at = NOW - timedelta(days=100)
    # 9 active; validated and revised within 90 days: 9 - 1 draft - 4 old = 4; 15 x 4/9 = 6.7.
    part = component(audit(session, now=NOW), "fresh_runbooks")
    assert (part["value"], part["points"]) == (0.444, 6.7)


def test_policies_count_stored_documents(session: Session, runbooks: dict[str, Runbook]) -> None:
    session.execute(delete(PolicyRevision).where(PolicyRevision.kind == "boundaries"))
    report = audit(session, now=NOW)
    part = component(report, "policies")
    assert (part["value"], part["points"]) == (1, 5.0)
    assert "approval boundaries missing" in part["detail"]


def drill(session: Session, *, ended_days_ago: float) -> Drill:
    row = Drill(
        starts_at=NOW - timedelta(days=ended_days_ago + 3),
        ends_at=NOW - timedelta(days=ended_days_ago),
    )
    session.add(row)
    session.flush()
    return row


def test_drill_held_then_reviewed(session: Session, runbooks: dict[str, Runbook]) -> None:
    held = drill(session, ended_days_ago=7)
    during = NOW - timedelta(days=8)
    contact(session, "approval", at=during)
    contact(session, "escalation", at=during, outcome="refused")
    contact(session, "escalation", at=during, outcome="deflection")  # needs no review
    # Held, review not done: 5 points.
    assert component(audit(session, now=NOW), "drill")["points"] == 5
    # Logging the contacts opened their review items; closing them completes the review.
    items = session.scalars(select(ReviewItem).where(ReviewItem.drill_id == held.id)).all()
    assert len(items) == 2
    for item in items:
        item.disposition = "improve_runbook"
    session.flush()
    part = component(audit(session, now=NOW), "drill")
    assert part["points"] == 15
    assert "review is complete" in part["detail"]


def test_drill_that_ended_over_31_days_ago_counts_nothing(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    drill(session, ended_days_ago=32)
    assert component(audit(session, now=NOW), "drill")["points"] == 0


def lesson(session: Session, created: str, state: str, applied: str | None = None) -> None:
    session.add(
        Lesson(
            text="x",
            state=state,
            created_at=datetime.fromisoformat(created),
            applied_at=datetime.fromisoformat(applied) if applied else None,
        )
    )


def test_lessons_applied_on_time(session: Session, runbooks: dict[str, Runbook]) -> None:
    lesson(session, "2026-03-02T10:00+00:00", "applied", "2026-03-06T10:00+00:00")  # on time
    lesson(session, "2026-03-03T10:00+00:00", "applied", "2026-03-10T10:00+00:00")  # late
    lesson(session, "2026-03-04T10:00+00:00", "pending")  # overdue
    lesson(session, "2026-03-05T10:00+00:00", "rejected")  # left out
    lesson(session, "2026-03-09T10:00+00:00", "pending")  # week not over: left out
    lesson(session, "2026-03-10T10:00+00:00", "applied", "2026-03-11T10:00+00:00")  # on time
    lesson(session, "2026-01-05T10:00+00:00", "applied", "2026-02-01T10:00+00:00")  # > 56 days
    session.flush()
    report = audit(session, now=NOW)
    # Due: 4 (2 Mar, 3 Mar, 4 Mar, 10 Mar); on time: 2; 10 x 2/4 = 5.
    part = component(report, "lessons_on_time")
    assert (part["value"], part["points"]) == (0.5, 5.0)
    assert "fold 1 overdue lesson into their runbooks" in report["next_actions"]


def tech(session: Session) -> Staff:
    return add_staff(session, name="Tess", email="tess@example.com", role="technician", level="L1")


def test_bottleneck_is_the_reason_with_most_recent_interruptions(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    recent = NOW - timedelta(days=3)
    for _ in range(3):
        contact(session, "approval", at=recent)
    for _ in range(2):
        contact(session, "escalation", at=recent)
    for _ in range(4):
        contact(session, "escalation", at=recent, outcome="deflection")  # not interruptions
        contact(session, "escalation", at=NOW - timedelta(days=40))  # too old
    contact(session, "other", at=recent)
    staff = tech(session)
    for cost in (300, 120):  # over L1's 50 for licences, inside L2's 500: waits on L2
        request_approval(
            session,
            ticket=None,
            action="Buy a licence",
            cost=cost,
            minutes=10,
            impact="low",
            kind="licence-purchase",
            requester=staff,
            now=recent,
        )
    request_approval(  # inside L1's boundary: approved by policy, not counted
        session, ticket=None, action="Toner", cost=30, minutes=5, impact="none",
        requester=staff, now=recent,
    )  # fmt: skip
    report = audit(session, now=NOW)
    assert report["bottleneck"] == "approvals"
    assert report["bottleneck_detail"] == "3 approval interruptions in the last 28 days"
    assert report["next_actions"][:2] == [
        "raise the L1 cost limit for licence-purchase: 2 requests waited on L2 in 28 days, "
        "the largest 300",
        "review boundaries: 3 approval interruptions, top action kind licence-purchase",
    ]


def test_escalation_bottleneck_names_the_rule(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    [ticket] = tickets(session, "vpn", 1, days_ago=5)
    change_ticket(
        session,
        ticket,
        actor=None,
        at=NOW - timedelta(days=4),
        note="escalated to owner (rule domain-controller-down): DC is down",
        level="owner",
        status="escalated",
    )
    contact(session, "escalation", at=NOW - timedelta(days=4), ticket=ticket)
    contact(session, "escalation", at=NOW - timedelta(days=3), ticket=ticket)
    report = audit(session, now=NOW)
    assert report["bottleneck"] == "escalations"
    assert report["next_actions"][0] == (
        "tighten rule domain-controller-down: 1 escalation through it reached the owner"
    )
    # Every busy category has a validated runbook: write next where the owner is reached most.
    assert report["write_next"] == {
        "category": "vpn",
        "reason": "its tickets reached the owner most: 2 interruptions in 56 days",
        "runbook": "vpn-auth-failure",
    }


def test_customer_communication_bottleneck_names_the_stage(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    waiting = tickets(session, "mfa", 2, days_ago=2, status="waiting_on_client")
    for ticket in waiting:
        contact(session, "customer_communication", at=NOW - timedelta(days=1), ticket=ticket)
    report = audit(session, now=NOW)
    assert report["bottleneck"] == "customer_communication"
    assert report["next_actions"][0] == (
        "add a template for stage waiting-on-client: 2 interruptions on tickets in "
        "waiting_on_client"
    )


def test_technical_decision_bottleneck_names_the_category(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    runbooks["printer-problem"].status = "archived"
    for ticket in tickets(session, "printer", 2, days_ago=2):
        contact(session, "technical_decision", at=NOW - timedelta(days=1), ticket=ticket)
    [vpn] = tickets(session, "vpn", 1, days_ago=2)
    contact(session, "technical_decision", at=NOW - timedelta(days=1), ticket=vpn)
    report = audit(session, now=NOW)
    assert report["bottleneck"] == "technical_decisions"
    assert report["next_actions"][0] == (
        "write a runbook for category printer: 2 technical-decision interruptions"
    )
    # printer (2 tickets) is the busiest category without a validated runbook.
    assert report["write_next"]["category"] == "printer"
    assert report["write_next"]["runbook"] is None


def test_cli_and_api_show_the_audit(run: Invoker, db: Database, tmp_path: Path) -> None:
    with db.unit_of_work() as session:
        starter(session)
        token = create_token(session, staff=tech(session), name="t")[1]
    result = run("audit", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {"score", "components", "bottleneck", "next_actions", "write_next"}
    assert [c["name"] for c in data["components"]] == [
        "interruptions",
        "runbook_coverage",
        "fresh_runbooks",
        "policies",
        "drill",
        "lessons_on_time",
    ]
    table = run("audit")
    assert table.exit_code == 0, table.output
    with api_client(db, tmp_path) as client:
        response = client.get("/api/v1/audit", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.json()["components"] == data["components"]
        assert client.get("/api/v1/audit").status_code == 401
