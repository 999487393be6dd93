"""Lessons asking for a new runbook through `franchise lesson ...`, `franchise runbook import
--applies` and POST/GET /api/v1/lessons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from franchise.accounts.service import add_staff, create_token
from franchise.bootstrap import initialise
from franchise.cli.context import console
from franchise.db import Database
from franchise.lessons.models import Lesson
from franchise.runbooks import service as runbooks
from franchise.tickets.service import create_ticket
from tests.lessons.helpers import api_client
from tests.lessons.test_new_runbook_lessons import LABEL_PRINTER
from tests.support import CliInvoker

TITLE = "Zebra label printer prints blank labels"


def seed(db: Database) -> tuple[int, str]:
    """Starter runbooks, one ticket no runbook covers, staff 'Ana'; (ticket id, Ana's token)."""
    with db.unit_of_work() as session:
        initialise(session)
        ticket = create_ticket(session, title=TITLE)
        ana = add_staff(session, name="Ana", email="ana@example.com", role="technician", level="L1")
        return ticket.id, create_token(session, staff=ana, name="t")[1]


def test_cli_adds_lists_and_folds_in_a_new_runbook_lesson(
    cli: CliInvoker, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket_id, _ = seed(db)
    result = cli(
        "lesson", "add", "Zebra printers need their own runbook", "--ticket", str(ticket_id),
        "--new-runbook", "--by", "ana@example.com", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    added = json.loads(result.stdout)
    assert (added["runbook"], added["new_runbook"], added["ticket_title"]) == (None, True, TITLE)
    assert (added["state"], added["author"]) == ("pending", "Ana")
    said = cli("lesson", "add", "Check the ribbon", "--ticket", str(ticket_id), "--new-runbook")
    assert said.exit_code == 0, said.output
    assert "a new runbook is needed" in said.stdout
    assert "franchise runbook import FILE --applies" in said.stdout
    monkeypatch.setattr(console, "_width", 200)  # one line per lesson, not a wrapped cell
    with console.capture() as captured:
        listed = cli("lesson", "list", "--pending")
    assert listed.exit_code == 0, listed.output
    assert "(new runbook needed)" in captured.get()

    file = tmp_path / "label-printer-blank.yaml"
    file.write_text(LABEL_PRINTER, encoding="utf-8")
    made = cli(
        "runbook", "import", str(file), "--applies", str(added["id"]), "--by", "Ana",
        "--note", "for the warehouse printers", "--json",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout) == [
        {
            "key": "label-printer-blank",
            "revision": 1,
            "action": "created",
            "lessons_applied": [added["id"]],
        }
    ]
    pending = json.loads(cli("lesson", "list", "--pending", "--json").stdout)
    assert [x["text"] for x in pending] == ["Check the ribbon"]
    applied = next(
        x for x in json.loads(cli("lesson", "list", "--json").stdout) if x["id"] == added["id"]
    )
    assert (applied["runbook"], applied["revision"], applied["state"]) == (
        "label-printer-blank",
        1,
        "applied",
    )
    with db.unit_of_work() as session:
        row = runbooks.get_runbook(session, "label-printer-blank")
        assert runbooks.revision(session, row, 1).ticket_ids == [str(ticket_id)]
        assert runbooks.revision(session, row, 1).note == "for the warehouse printers"


def test_cli_add_wants_a_runbook_or_new_runbook_but_not_both(cli: CliInvoker, db: Database) -> None:
    ticket_id, _ = seed(db)
    for extra in ([], ["--runbook", "printer", "--new-runbook"]):
        result = cli("lesson", "add", "x", "--ticket", str(ticket_id), *extra)
        assert result.exit_code == 2, result.output
        assert "give --runbook KEY" in result.output
        assert "or --new-runbook when no runbook fits the ticket" in result.output
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Lesson)) == 0


def test_cli_import_applies_only_to_one_new_runbook_file(
    cli: CliInvoker, db: Database, tmp_path: Path
) -> None:
    ticket_id, _ = seed(db)
    added = json.loads(
        cli("lesson", "add", "x", "--ticket", str(ticket_id), "--new-runbook", "--json").stdout
    )
    file = tmp_path / "label.yaml"
    file.write_text(LABEL_PRINTER, encoding="utf-8")
    two = cli("runbook", "import", str(file), str(file), "--applies", str(added["id"]))
    assert two.exit_code == 2
    assert "--applies takes one runbook file" in two.output
    starter = tmp_path / "vpn.yaml"
    starter.write_text(runbooks.STARTER.joinpath("vpn-auth-failure.yaml").read_text("utf-8"))
    existing = cli("runbook", "import", str(starter), "--applies", str(added["id"]))
    assert existing.exit_code == 1
    assert "'vpn-auth-failure' already exists; revise it instead" in existing.output
    with db.unit_of_work() as session:
        lesson = session.get(Lesson, added["id"])
        assert lesson is not None and lesson.state == "pending"
        assert session.scalars(select(Lesson.runbook_id)).all() == [None]


def test_api_creates_lists_and_rejects_a_new_runbook_lesson(db: Database, tmp_path: Path) -> None:
    ticket_id, token = seed(db)
    auth = {"Authorization": f"Bearer {token}"}
    with api_client(db, tmp_path) as client:
        body = {"ticket_id": ticket_id, "runbook": None, "text": "Zebra printers need a runbook"}
        created = client.post("/api/v1/lessons", json=body, headers=auth)
        assert created.status_code == 201, created.text
        lesson = created.json()
        assert (lesson["runbook"], lesson["new_runbook"], lesson["author"]) == (None, True, "Ana")
        assert lesson["ticket_title"] == TITLE
        listed = client.get("/api/v1/lessons?pending=true", headers=auth).json()
        assert [(x["id"], x["runbook"]) for x in listed] == [(lesson["id"], None)]
        # Saying nothing about the runbook is not taken to mean "a new one".
        missing = client.post(
            "/api/v1/lessons", json={"ticket_id": ticket_id, "text": "x"}, headers=auth
        )
        assert missing.status_code == 422
        assert missing.json()["code"] == "invalid_input"
        blank = client.post(
            "/api/v1/lessons",
            json={"ticket_id": ticket_id, "runbook": " ", "text": "x"},
            headers=auth,
        )
        assert blank.status_code == 422
        assert "or record that a new runbook is needed" in blank.json()["error"]
        rejected = client.post(
            f"/api/v1/lessons/{lesson['id']}/reject",
            json={"reason": "a one-off"},
            headers=auth,
        )
        assert rejected.status_code == 200, rejected.text
        assert (rejected.json()["state"], rejected.json()["runbook"]) == ("rejected", None)
        assert client.get("/api/v1/lessons?pending=true", headers=auth).json() == []
