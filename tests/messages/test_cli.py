"""`franchise message ...` and `franchise templates ...` against the test database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from franchise.accounts.service import add_staff
from franchise.cli import FranchiseGroup
from franchise.cli.context import CliContext
from franchise.cli.message_cmds import app as message_app
from franchise.cli.message_cmds import templates_app
from franchise.clients.models import ClientContact
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.settings import Settings
from franchise.tickets.service import create_ticket
from tests.messages.conftest import SENDER, SmtpServer, free_port

root = typer.Typer(cls=FranchiseGroup, no_args_is_help=True, pretty_exceptions_enable=False)
root.add_typer(message_app, name="message")
root.add_typer(templates_app, name="templates")


class Cli:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.context = CliContext(_settings=settings, db=db, migrated=True)

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(root, list(args), obj=self.context)


@pytest.fixture
def ticket_id(db: Database) -> int:
    with db.unit_of_work() as session:
        add_staff(
            session, name="Priya Shah", email="priya@msp.example", role="technician", level="L1"
        )
        client = add_client(session, name="Harbour Dental")
        session.add(
            ClientContact(
                client_id=client.id,
                name="Dana Whitfield",
                email="dana@harbour.example",
                is_primary=True,
            )
        )
        ticket = create_ticket(
            session, title="VPN down", client=client.id, runbook_key="vpn-auth-failure"
        )
        return ticket.id


def test_render_prints_subject_body_recipient_and_template_as_json(
    db: Database, tmp_path: Path, ticket_id: int
) -> None:
    cli = Cli(db, Settings(home=tmp_path))
    result = cli("message", "render", "resolved", "--ticket", str(ticket_id), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["template"] == "vpn-reconnect-resolved"
    assert data["to"] == "dana@harbour.example"
    assert data["subject"] == f"[#{ticket_id}] Your VPN connection is working again"
    assert data["body"].startswith("Hello Dana Whitfield,")


def test_render_with_a_missing_variable_is_a_red_line_not_a_traceback(
    db: Database, tmp_path: Path, ticket_id: int
) -> None:
    cli = Cli(db, Settings(home=tmp_path))
    result = cli("message", "render", "nope", "--ticket", str(ticket_id))
    assert result.exit_code == 1
    assert "no template or stage 'nope'" in result.stderr
    assert "Traceback" not in result.output


def test_send_delivers_and_list_shows_it(
    db: Database, tmp_path: Path, ticket_id: int, smtp_server: SmtpServer
) -> None:
    cli = Cli(db, smtp_server.settings(tmp_path))
    result = cli(
        "message", "send", "acknowledged", "--ticket", str(ticket_id), "--by", "priya@msp.example",
        "--next-update", "+2h",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Sent to dana@harbour.example" in result.stdout
    [envelope] = smtp_server.collector.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == (SENDER, ["dana@harbour.example"])

    listed = json.loads(cli("message", "list", "--ticket", str(ticket_id), "--json").stdout)
    assert [(m["status"], m["template"], m["to"]) for m in listed] == [
        ("sent", "request-received", "dana@harbour.example")
    ]


def test_a_failed_send_is_kept_on_the_ticket_and_exits_non_zero(
    db: Database, tmp_path: Path, ticket_id: int
) -> None:
    settings = Settings(
        home=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_tls="none",
        smtp_from=SENDER,
    )
    cli = Cli(db, settings)
    result = cli(
        "message", "send", "update", "--ticket", str(ticket_id), "--by", "Priya Shah", "--json"
    )
    assert result.exit_code == 1
    # Nothing listens there: the e-mail stays queued for a retry, and the command says so.
    assert json.loads(result.stdout)["status"] == "retrying"
    assert "was not delivered" in result.stderr
    assert "it will be tried again" in result.stderr
    listed = json.loads(cli("message", "list", "--ticket", str(ticket_id), "--json").stdout)
    assert [m["status"] for m in listed] == ["retrying"]


def test_templates_lint_import_export_and_show(db: Database, tmp_path: Path) -> None:
    cli = Cli(db, Settings(home=tmp_path))
    exported = tmp_path / "templates.yaml"
    assert cli("templates", "export", str(exported)).exit_code == 0
    assert cli("templates", "lint", str(exported)).exit_code == 0

    broken = tmp_path / "broken.yaml"
    broken.write_text(
        exported.read_text(encoding="utf-8").replace(
            "{{ contact.name }},", "{{ contact.first_name }},", 1
        ),
        encoding="utf-8",
    )
    linted = cli("templates", "lint", str(broken), "--json")
    assert linted.exit_code == 1
    [problem] = json.loads(linted.stdout)["problems"]
    assert problem["code"] == "unknown-variable"
    assert problem["line"] == 1 + exported.read_text(encoding="utf-8").splitlines().index(
        "      Hello {{ contact.name }},"
    )

    refused = cli("templates", "import", str(broken))
    assert refused.exit_code == 2
    assert "first_name" in refused.stderr

    edited = tmp_path / "edited.yaml"
    edited.write_text(
        exported.read_text(encoding="utf-8").replace("Kind regards,", "Best wishes,"),
        encoding="utf-8",
    )
    imported = cli("templates", "import", str(edited), "--note", "warmer sign-off", "--json")
    assert json.loads(imported.stdout) == {"revision": 1, "changed": True}
    shown = json.loads(cli("templates", "show", "--json").stdout)
    assert shown["revision"] == 1
    assert all("Best wishes," in t["body"] for t in shown["templates"])
    table = cli("templates", "show")
    assert "vpn-reconnect-resolved" in table.stdout
    assert "revision 1" in table.stdout
