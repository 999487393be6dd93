"""Importing PSA exports into the database: formats, idempotence, bad rows, mapping files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from franchise.bootstrap import initialise
from franchise.cli import FranchiseGroup, import_cmds
from franchise.cli.context import CliContext
from franchise.clients.models import Client
from franchise.db import Database
from franchise.errors import InvalidInput
from franchise.psa.importer import ImportReport, import_tickets
from franchise.tickets.models import Ticket
from franchise.tickets.service import change_ticket, history
from tests.psa.support import PsaSettings


@pytest.fixture
def library(db: Database, integrated: bool) -> Database:
    """The starter runbooks and escalation map, so imported tickets get a runbook."""
    with db.unit_of_work() as session:
        initialise(session)
    return db


def run(db: Database, path: Path, fmt: str, **kwargs: object) -> ImportReport:
    return import_tickets(db, path, format=fmt, **kwargs)  # type: ignore[arg-type]


def imported(db: Database) -> dict[str, Ticket]:
    with db.unit_of_work() as session:
        tickets = session.scalars(select(Ticket).where(Ticket.source == "import")).all()
        return {t.external_id or "": t for t in tickets}


def client_names(db: Database) -> dict[int, str]:
    with db.unit_of_work() as session:
        return {c.id: c.name for c in session.scalars(select(Client))}


def test_connectwise_export_opens_tickets_with_runbooks_and_creates_clients(
    library: Database, fixtures: Path
) -> None:
    report = run(library, fixtures / "connectwise_service_board.csv", "connectwise")
    assert (report.imported, report.updated, report.unchanged, report.errors) == (5, 0, 0, [])
    assert sorted(report.clients_created) == [
        "Harbor Dental Group",
        "Keystone Logistics",
        "Pine Street Law",
    ]
    tickets = imported(library)
    names = client_names(library)
    vpn = tickets["48211"]
    assert (vpn.category, vpn.runbook_key, vpn.priority) == ("vpn", "vpn-auth-failure", "high")
    assert names[vpn.client_id or 0] == "Harbor Dental Group"
    assert vpn.created_at == datetime(2026, 11, 24, 8, 2, tzinfo=UTC)
    # A runbook is attached and none of its steps is done, and nothing in the text is an
    # emergency: the map refuses escalation until the runbook's checks are done.
    assert vpn.custom_fields["escalation_allowed"] == "no"
    assert not any(tag.startswith("escalate:") for tag in vpn.tags)
    assert (tickets["48213"].category, tickets["48213"].status) == ("backup", "waiting_on_client")
    # "Security" maps to nothing, so the suggester chose from the text (Authenticator app).
    assert tickets["48215"].category == "mfa"
    with library.unit_of_work() as session:
        events = history(session, session.get(Ticket, tickets["48213"].id))  # type: ignore[arg-type]
    status = [e for e in events if e.field == "status"]
    assert [(e.old_value, e.new_value) for e in status] == [("new", "waiting_on_client")]
    assert "connectwise export, line 5" in (status[0].note or "")


def test_reimport_creates_nothing_twice_and_updates_a_changed_status_with_history(
    library: Database, fixtures: Path, tmp_path: Path
) -> None:
    source = fixtures / "connectwise_service_board.csv"
    run(library, source, "connectwise")
    again = run(library, source, "connectwise")
    assert (again.imported, again.updated, again.unchanged, again.errors) == (0, 0, 5, [])
    assert again.clients_created == []

    changed = tmp_path / "export.csv"
    changed.write_text(
        source.read_text().replace(
            "Alerts,Waiting Customer,Priority 1", "Alerts,Completed,Priority 1"
        )
    )
    third = run(library, changed, "connectwise")
    assert (third.imported, third.updated, third.unchanged) == (0, 1, 4)
    ticket = imported(library)["48213"]
    assert ticket.status == "resolved"
    assert ticket.resolved_at is not None
    with library.unit_of_work() as session:
        events = history(session, session.get(Ticket, ticket.id))  # type: ignore[arg-type]
    last = [e for e in events if e.field == "status"][-1]
    assert (last.old_value, last.new_value) == ("waiting_on_client", "resolved")
    assert last.note == "re-imported from the connectwise export, line 5"
    assert len(imported(library)) == 5


def test_an_edit_in_franchise_survives_a_reimport_of_an_unchanged_export(
    library: Database, fixtures: Path
) -> None:
    source = fixtures / "autotask_tickets.csv"
    run(library, source, "autotask")
    with library.unit_of_work() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.external_id == "T20261124.0001"))
        assert ticket is not None
        change_ticket(session, ticket, actor=None, status="in_progress", priority="high")
    again = run(library, source, "autotask")
    assert (again.updated, again.unchanged) == (0, 4)
    ticket = imported(library)["T20261124.0001"]
    assert (ticket.status, ticket.priority) == ("in_progress", "high")


def test_bad_rows_are_reported_by_line_and_good_rows_are_stored(
    library: Database, fixtures: Path
) -> None:
    report = run(library, fixtures / "connectwise_bad_rows.csv", "connectwise")
    assert report.imported == 4
    errors = report.to_dict()["errors"]
    assert [e["line"] for e in errors] == [4, 6, 9, 10, 11]
    assert errors[0]["message"] == "no title (column 'Summary' is empty)"
    assert errors[1]["message"].startswith("date '31/31/2026 8:20 AM' is not a date")
    assert sorted(imported(library)) == ["49001", "49002", "49004", "49006"]


def test_autotask_and_halopsa_exports(library: Database, fixtures: Path) -> None:
    autotask = run(library, fixtures / "autotask_tickets.csv", "autotask")
    halo = run(library, fixtures / "halopsa_tickets.csv", "halopsa")
    variant = run(library, fixtures / "halopsa_report_variant.csv", "halopsa")
    assert [(r.imported, r.errors) for r in (autotask, halo, variant)] == [
        (4, []),
        (3, []),
        (2, []),
    ]
    assert variant.clients_created == ["Brand New Client Ltd"]
    tickets = imported(library)
    assert {k: (t.category, t.status) for k, t in tickets.items()} == {
        "T20261124.0001": ("onboarding", "new"),
        "T20261124.0002": ("email-quarantine", "in_progress"),
        "T20261124.0003": ("endpoint-offline", "waiting_on_client"),
        "T20261124.0004": ("vpn", "escalated"),
        "10551": ("printer", "new"),
        "10552": ("patching", "in_progress"),
        "10553": ("mfa", "waiting_on_client"),
        "10601": ("backup", "in_progress"),
        "10602": ("printer", "closed"),
    }
    assert tickets["10553"].created_at == datetime(2026, 11, 25, 7, 55, tzinfo=UTC)
    assert tickets["10602"].closed_at is not None


def test_a_mapping_file_describes_any_other_export(library: Database, fixtures: Path) -> None:
    report = run(
        library,
        fixtures / "generic_helpdesk.csv",
        "generic",
        mapping=fixtures / "generic_helpdesk.yaml",
    )
    assert (report.imported, report.errors) == (3, [])
    tickets = imported(library)
    gateway = tickets["HD-7001"]
    assert (gateway.category, gateway.priority, gateway.status) == (
        "vpn",
        "critical",
        "in_progress",
    )
    assert gateway.created_at == datetime(2026, 11, 24, 7, 45, tzinfo=UTC)
    assert tickets["HD-7002"].category == "mfa"
    assert tickets["HD-7003"].status == "new"


def test_generic_without_a_mapping_file_and_unknown_formats_are_refused(
    library: Database, fixtures: Path
) -> None:
    with pytest.raises(InvalidInput, match="needs --mapping"):
        run(library, fixtures / "generic_helpdesk.csv", "generic")
    with pytest.raises(InvalidInput, match="unknown format 'kaseya'"):
        run(library, fixtures / "generic_helpdesk.csv", "kaseya")


def test_batches_commit_separately_and_report_progress(library: Database, fixtures: Path) -> None:
    seen: list[int] = []
    totals: list[int] = []
    report = run(
        library,
        fixtures / "connectwise_bad_rows.csv",
        "connectwise",
        batch_size=3,
        on_rows=totals.append,
        on_progress=seen.append,
    )
    assert report.imported == 4
    assert totals == [9]
    # The five bad rows first, then batches of 3 and 1 good rows: every row is counted.
    assert seen == [5, 3, 1]


def cli_app() -> typer.Typer:
    app = typer.Typer(cls=FranchiseGroup)
    app.add_typer(import_cmds.app, name="import")
    app.add_typer(import_cmds.webhooks_app, name="webhooks")
    return app


def invoke(db: Database, tmp_path: Path, *args: str) -> object:
    context = CliContext(_settings=PsaSettings(home=tmp_path), db=db, migrated=True)
    return CliRunner().invoke(cli_app(), list(args), obj=context)


def test_cli_prints_json_and_names_bad_lines_with_exit_1(
    library: Database, fixtures: Path, tmp_path: Path
) -> None:
    good = invoke(
        library,
        tmp_path,
        "import",
        "tickets",
        str(fixtures / "halopsa_tickets.csv"),
        "--format",
        "halopsa",
        "--json",
    )
    assert good.exit_code == 0, good.output  # type: ignore[attr-defined]
    data = json.loads(good.stdout)  # type: ignore[attr-defined]
    assert (data["imported"], data["errors"]) == (3, [])
    bad_file = fixtures / "connectwise_bad_rows.csv"
    bad = invoke(library, tmp_path, "import", "tickets", str(bad_file), "-f", "connectwise")
    assert bad.exit_code == 1  # type: ignore[attr-defined]
    assert "4 imported, 0 updated, 0 unchanged, 5 bad row(s)" in bad.stdout  # type: ignore[attr-defined]
    assert f"{bad_file}:4: no title" in bad.stderr  # type: ignore[attr-defined]


def test_cli_refuses_a_bad_mapping_file_with_its_lines_and_exit_2(
    library: Database, fixtures: Path, tmp_path: Path
) -> None:
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  title: Subject\n  owner: Tech\n")
    result = invoke(
        library,
        tmp_path,
        "import",
        "tickets",
        str(fixtures / "generic_helpdesk.csv"),
        "--format",
        "generic",
        "--mapping",
        str(mapping),
    )
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert f"{mapping}:3: columns: unknown field 'owner'" in result.stderr  # type: ignore[attr-defined]
    with library.unit_of_work() as session:
        assert session.scalar(select(Ticket).where(Ticket.source == "import")) is None
