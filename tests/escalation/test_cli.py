"""The escalation commands, run through a small Typer app until they are registered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from franchise.accounts.service import add_staff
from franchise.bootstrap import initialise
from franchise.cli import FranchiseGroup, escalation_cmds
from franchise.cli.context import CliContext
from franchise.db import Database
from franchise.escalation.service import STARTER, load_starter
from franchise.settings import Settings
from franchise.tickets.service import create_ticket

BROKEN = Path(__file__).parent / "broken-map.yaml"


def make_app() -> typer.Typer:
    root = typer.Typer(cls=FranchiseGroup)
    root.add_typer(escalation_cmds.app, name="escalation")
    tickets = typer.Typer()
    tickets.command("escalate")(escalation_cmds.escalate)
    # A second command keeps `ticket` a group (Typer collapses a one-command group).
    tickets.command("noop")(lambda: None)
    root.add_typer(tickets, name="ticket")
    return root


class Invoke:
    def __init__(self, db: Database, home: Path) -> None:
        self.context = CliContext(_settings=Settings(home=home), db=db, migrated=True)
        self.app = make_app()
        self.runner = CliRunner()

    def __call__(self, *args: str):  # type: ignore[no-untyped-def]
        return self.runner.invoke(self.app, list(args), obj=self.context)


@pytest.fixture
def run(db: Database, tmp_path: Path) -> Invoke:
    with db.unit_of_work() as session:
        initialise(session)
        load_starter(session)
        add_staff(session, name="Tess", email="tess@example.com", role="technician", level="L1")
        add_staff(session, name="Olive", email="olive@example.com", role="owner", level="owner")
        create_ticket(session, title="VPN won't connect", category="vpn")
    return Invoke(db, tmp_path)


def ticket_id(run: Invoke) -> str:
    from franchise.queue.service import list_tickets

    assert run.context.db is not None
    with run.context.db.unit_of_work() as session:
        return str(list_tickets(session, category="vpn")[0].id)


def test_check_json_says_no_with_the_pending_step(run: Invoke) -> None:
    result = run("escalation", "check", ticket_id(run), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"allowed", "to", "rule", "emergency", "reason", "pending_step"}
    assert (data["allowed"], data["pending_step"]) == (False, "scope")
    text = run("escalation", "check", ticket_id(run))
    assert "Escalation allowed: No" in text.stdout


def test_ticket_escalate_refused_shows_the_next_step_and_exits_1(run: Invoke) -> None:
    result = run("ticket", "escalate", ticket_id(run), "--to", "L2", "--by", "tess@example.com")
    assert result.exit_code == 1
    assert "refused" in result.stderr
    assert "Do runbook step 'scope' next." in result.stderr
    denied = run(
        "ticket",
        "escalate",
        ticket_id(run),
        "--to",
        "L2",
        "--by",
        "tess@example.com",
        "--override-reason",
        "hurry",
    )
    assert denied.exit_code == 1
    assert "only the owner or an admin" in denied.stderr


def test_owner_override_from_the_cli(run: Invoke) -> None:
    result = run(
        "ticket",
        "escalate",
        ticket_id(run),
        "--to",
        "L2",
        "--by",
        "olive@example.com",
        "--override-reason",
        "known firewall outage",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["level"] == "L2"


def test_show_lint_import_export(run: Invoke, tmp_path: Path) -> None:
    shown = json.loads(run("escalation", "show", "--json").stdout)
    assert shown["revision"] == 1
    assert shown["rules"][0]["name"] == "domain-controller-down"
    assert "critical-outage" in run("escalation", "show").stdout

    assert run("escalation", "lint", str(STARTER)).exit_code == 0
    bad = run("escalation", "lint", str(BROKEN), "--json")
    assert bad.exit_code == 1
    assert {"line": 9, "code": "unknown-level"}.items() <= next(
        p for p in json.loads(bad.stdout)["problems"] if p["code"] == "unknown-level"
    ).items()

    refused = run("escalation", "import", str(BROKEN))
    assert refused.exit_code == 2
    assert "broken-map.yaml:9: rule 'a': unknown level 'L3'" in refused.stderr

    out = tmp_path / "map.yaml"
    assert run("escalation", "export", str(out)).exit_code == 0
    out.write_text(out.read_text().replace("older_than_hours: 4", "older_than_hours: 3"))
    saved = run(
        "escalation",
        "import",
        str(out),
        "--note",
        "tighter",
        "--by",
        "Olive",
        "--expected-revision",
        "1",
        "--json",
    )
    assert saved.exit_code == 0, saved.output
    assert json.loads(saved.stdout) == {"revision": 2, "changed": True}
    stale = run("escalation", "import", str(out), "--expected-revision", "1")
    assert stale.exit_code == 1
    assert "revision 2, not 1" in stale.stderr
