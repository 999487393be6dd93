"""The approval commands end to end, on their own Typer app (registration is shared)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from franchise.accounts.service import add_staff
from franchise.approvals.service import STARTER_BOUNDARIES
from franchise.cli import FranchiseGroup
from franchise.cli.approval_cmds import register
from franchise.cli.context import CliContext
from franchise.db import Database
from franchise.settings import Settings
from franchise.tickets.service import create_ticket


class Invoker:
    def __init__(self, context: CliContext) -> None:
        self.app = typer.Typer(cls=FranchiseGroup, pretty_exceptions_enable=False)
        register(self.app)
        self.context = context
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(self.app, list(args), obj=self.context)

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli(db: Database, tmp_path: Path) -> Invoker:
    with db.unit_of_work() as session:
        _seed(session)
    return Invoker(CliContext(_settings=Settings(home=tmp_path), db=db, migrated=True))


def _seed(session: Session) -> None:
    for email, level, role in (
        ("tom@msp.example", "L1", "technician"),
        ("lee@msp.example", "L2", "technician"),
        ("boss@msp.example", "owner", "owner"),
    ):
        add_staff(session, name=email.split("@")[0], email=email, role=role, level=level)
    create_ticket(session, title="VPN will not connect", category="vpn")


def ticket_id(db: Database) -> str:
    from sqlalchemy import select

    from franchise.tickets.models import Ticket

    with db.unit_of_work() as session:
        return str(session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)))


APPROVE = ("approve", "--by", "tom@msp.example", "--action")


def test_approve_inside_the_boundary(cli: Invoker, db: Database) -> None:
    data = cli.json(
        *APPROVE,
        "Renew VPN certificate",
        ticket_id(db),
        "--cost",
        "0",
        "--minutes",
        "20",
        "--impact",
        "low",
    )
    assert set(data) == {"id", "decision", "approver_level", "decided_by", "reason"}
    assert (data["decision"], data["decided_by"], data["approver_level"]) == (
        "approved",
        "boundary",
        "L1",
    )
    assert "inside the L1 boundary" in data["reason"]


def test_approve_outside_then_decide_list_and_expire(cli: Invoker, db: Database) -> None:
    data = cli.json(*APPROVE, "Replace SSD", ticket_id(db), "--cost", "250", "--minutes", "90")
    assert (data["decision"], data["approver_level"], data["decided_by"]) == ("pending", "L2", None)
    assert "cost 250 exceeds L1 limit 100" in data["reason"]

    pending = cli.json("approvals", "list", "--status", "pending")
    assert [r["id"] for r in pending] == [data["id"]]

    own = cli(
        "approvals",
        "decide",
        str(data["id"]),
        "--approve",
        "--by",
        "tom@msp.example",
        "--reason",
        "mine",
    )
    assert own.exit_code == 1
    assert "never approves their own request" in own.output

    decided = cli.json(
        "approvals",
        "decide",
        str(data["id"]),
        "--approve",
        "--by",
        "lee@msp.example",
        "--reason",
        "quote signed",
    )
    assert (decided["decision"], decided["decided_by"]) == ("approved", "lee@msp.example")
    assert cli.json("approvals", "list", "--status", "pending") == []
    assert cli.json("approvals", "expire") == []


def test_bad_input_is_a_red_line_not_a_traceback(cli: Invoker, db: Database) -> None:
    result = cli(*APPROVE, "x", ticket_id(db), "--cost", "ten")
    assert result.exit_code == 2
    assert "cost 'ten' is not an amount" in result.output
    result = cli(*APPROVE, "x", ticket_id(db), "--impact", "huge")
    assert "unknown impact 'huge'" in result.output


def test_boundaries_show_lint_import_export(cli: Invoker, tmp_path: Path) -> None:
    shown = cli.json("boundaries", "show")
    assert shown["revision"] == 0
    assert shown["levels"]["L1"]["max_cost"] == "100.00"
    assert shown["levels"]["owner"]["max_cost"] is None

    bad = tmp_path / "bad.yaml"
    bad.write_text("levels:\n  L1: {max_cost: -1, max_minutes: 1, impacts: [none]}\n")
    result = cli("boundaries", "lint", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:2: levels.L1.max_cost is -1" in result.output
    assert cli("boundaries", "lint", str(STARTER_BOUNDARIES)).exit_code == 0

    refused = cli("boundaries", "import", str(bad), "--by", "boss@msp.example")
    assert refused.exit_code == 2
    assert "problem(s)" in refused.output

    good = tmp_path / "good.yaml"
    good.write_text(STARTER_BOUNDARIES.read_text().replace("max_cost: 100 ", "max_cost: 150 "))
    by_tech = cli("boundaries", "import", str(good), "--by", "lee@msp.example")
    assert by_tech.exit_code == 1
    imported = cli.json(
        "boundaries", "import", str(good), "--by", "boss@msp.example", "--note", "raise L1"
    )
    assert (imported["revision"], imported["changed"]) == (1, True)
    assert cli.json("boundaries", "show")["levels"]["L1"]["max_cost"] == "150.00"

    out = tmp_path / "out" / "boundaries.yaml"
    assert cli("boundaries", "export", str(out)).exit_code == 0
    assert out.read_text() == good.read_text()


def test_a_monthly_cost_is_asked_for_and_listed_with_its_period(cli: Invoker, db: Database) -> None:
    data = cli.json(
        *APPROVE, "Add a Business Premium licence", ticket_id(db),
        "--cost", "40", "--recurring", "month",
    )  # fmt: skip
    # 40 a month = 480 a year: over L1's licence limit of 50, inside L2's 500.
    assert (data["decision"], data["approver_level"]) == ("pending", "L2")
    assert "cost 40/month (480 a year) exceeds L1 limit 50 for licence-purchase" in data["reason"]
    listed = cli("approvals", "list")
    assert listed.exit_code == 0
    assert "40.00/month" in listed.output
    refused = cli(*APPROVE, "Toner", ticket_id(db), "--cost", "4", "--recurring", "weekly")
    assert refused.exit_code == 2
    assert "unknown recurring 'weekly' (use once, month, year)" in refused.output
