"""`franchise lesson ...` and the /lessons routes."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from franchise.accounts.service import add_staff, create_token
from franchise.bootstrap import initialise
from franchise.cli.context import console
from franchise.db import Database, utcnow
from franchise.lessons.models import Lesson
from franchise.tickets.service import create_ticket
from tests.lessons.helpers import Invoker, api_client


def seed(db: Database) -> tuple[int, str]:
    """Starter runbooks, one vpn ticket, staff 'Ana'; returns (ticket id, Ana's API token)."""
    with db.unit_of_work() as session:
        initialise(session)
        ticket = create_ticket(session, title="VPN fails", category="vpn")
        ana = add_staff(session, name="Ana", email="ana@example.com", role="technician", level="L1")
        return ticket.id, create_token(session, staff=ana, name="t")[1]


def test_cli_add_list_reject(run: Invoker, db: Database) -> None:
    ticket_id, _ = seed(db)
    result = run(
        "lesson", "add", "Ask for the FortiClient version", "--ticket", str(ticket_id),
        "--runbook", "vpn-auth-failure", "--by", "ana@example.com", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    added = json.loads(result.output)
    assert (added["state"], added["author"], added["overdue"]) == ("pending", "Ana", False)
    result = run("lesson", "list", "--pending", "--json")
    assert [x["id"] for x in json.loads(result.output)] == [added["id"]]
    result = run("lesson", "reject", str(added["id"]), "--by", "Ana", "--reason", "duplicate")
    assert result.exit_code == 0, result.output
    assert json.loads(run("lesson", "list", "--pending", "--json").output) == []
    result = run("lesson", "reject", str(added["id"]), "--by", "Ana", "--reason", "again")
    assert result.exit_code == 2
    assert "is rejected, not pending" in result.output


def test_cli_list_flags_overdue_lessons_in_red(run: Invoker, db: Database) -> None:
    ticket_id, _ = seed(db)
    with db.unit_of_work() as session:
        session.add(
            Lesson(
                ticket_id=ticket_id,
                text="old lesson",
                state="pending",
                created_at=utcnow() - timedelta(days=8),
            )
        )
    with console.capture() as captured:
        result = run("lesson", "list")
    assert result.exit_code == 0, result.output
    assert "overdue" in captured.get()
    assert "1 lesson(s) overdue" in captured.get()


def test_cli_add_names_an_unknown_runbook(run: Invoker, db: Database) -> None:
    ticket_id, _ = seed(db)
    result = run("lesson", "add", "x", "--ticket", str(ticket_id), "--runbook", "nope")
    assert result.exit_code == 1
    assert "no runbook 'nope'" in result.output


def test_api_create_list_reject(db: Database, tmp_path: Path) -> None:
    ticket_id, token = seed(db)
    auth = {"Authorization": f"Bearer {token}"}
    with api_client(db, tmp_path) as client:
        body = {"ticket_id": ticket_id, "runbook": "vpn", "text": "Check the clock skew"}
        created = client.post("/api/v1/lessons", json=body, headers=auth)
        assert created.status_code == 201, created.text
        lesson = created.json()
        assert (lesson["runbook"], lesson["author"]) == ("vpn-auth-failure", "Ana")
        listed = client.get("/api/v1/lessons?pending=true", headers=auth).json()
        assert [x["id"] for x in listed] == [lesson["id"]]
        rejected = client.post(
            f"/api/v1/lessons/{lesson['id']}/reject", json={"reason": "known"}, headers=auth
        )
        assert rejected.json()["state"] == "rejected"
        assert client.get("/api/v1/lessons?pending=true", headers=auth).json() == []
        missing = client.post("/api/v1/lessons/999999/reject", json={"reason": "x"}, headers=auth)
        assert missing.status_code == 404
        assert missing.json() == {
            "ok": False, "error": "no lesson 999999", "errors": [], "status": 404,
            "code": "not_found",
        }  # fmt: skip
        assert client.get("/api/v1/lessons").status_code == 401
