"""Stale runbooks: untouched for 90 days while their category keeps escalating."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy.orm import Session

from franchise.db import Database
from franchise.lessons.stale import stale_runbooks
from franchise.runbooks.models import Runbook
from franchise.tickets.service import change_ticket
from tests.lessons.helpers import NOW, Invoker, tickets


def escalate(session: Session, category: str, n: int, *, days_ago: float) -> None:
    """n tickets created a month earlier, escalated L1 -> L2 `days_ago` days before NOW."""
    for ticket in tickets(session, category, n, days_ago=days_ago + 30):
        change_ticket(session, ticket, actor=None, at=NOW - timedelta(days=days_ago), level="L2")
    session.flush()


def stale_keys(session: Session) -> list[str]:
    return [r["key"] for r in stale_runbooks(session, NOW)]


def test_runbook_untouched_91_days_with_3_escalations_is_stale(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    runbooks["vpn-auth-failure"].updated_at = NOW - timedelta(days=91)
    escalate(session, "vpn", 3, days_ago=5)
    [row] = stale_runbooks(session, NOW)
    assert row["key"] == "vpn-auth-failure"
    assert (row["days_untouched"], row["escalations_28d"]) == (91, 3)


def test_runbook_revised_89_days_ago_is_not_stale(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    runbooks["vpn-auth-failure"].updated_at = NOW - timedelta(days=89)
    escalate(session, "vpn", 3, days_ago=5)
    assert stale_keys(session) == []


def test_two_escalations_are_not_enough(session: Session, runbooks: dict[str, Runbook]) -> None:
    runbooks["vpn-auth-failure"].updated_at = NOW - timedelta(days=91)
    escalate(session, "vpn", 2, days_ago=5)
    # Escalations older than 28 days and other categories do not count.
    escalate(session, "vpn", 5, days_ago=29)
    escalate(session, "patching", 3, days_ago=5)
    assert stale_keys(session) == []


def test_tickets_imported_already_escalated_count_once(
    session: Session, runbooks: dict[str, Runbook]
) -> None:
    runbooks["backup-missing"].updated_at = NOW - timedelta(days=120)
    tickets(session, "backup", 2, days_ago=3, level="owner", status="escalated")
    # Created escalated *and* with a level change in the window: still one ticket.
    [both] = tickets(session, "backup", 1, days_ago=3, status="escalated")
    change_ticket(session, both, actor=None, at=NOW - timedelta(days=2), level="L2")
    session.flush()
    assert stale_keys(session) == ["backup-missing"]
    assert stale_runbooks(session, NOW)[0]["escalations_28d"] == 3


def test_archived_runbooks_are_never_stale(session: Session, runbooks: dict[str, Runbook]) -> None:
    runbooks["vpn-auth-failure"].updated_at = NOW - timedelta(days=200)
    runbooks["vpn-auth-failure"].status = "archived"
    escalate(session, "vpn", 4, days_ago=1)
    assert stale_keys(session) == []


def test_cli_runbook_stale_json(run: Invoker, db: Database) -> None:
    result = run("runbook", "stale", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == []
    result = run("runbook", "stale")
    assert "No stale runbooks." in result.output
