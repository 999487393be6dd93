"""A client's outage correlation: `franchise client outage show|set` and
/api/v1/clients/{client}/outage, over the organisation's defaults; the worker follows them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from franchise.accounts.service import add_staff, create_token
from franchise.alerts.models import Integration
from franchise.alerts.worker import Report
from franchise.app import create_app
from franchise.cli import FranchiseGroup, client_cmds
from franchise.cli.context import CliContext
from franchise.clients.models import Client
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.orgsettings.service import set_setting
from franchise.settings import Settings
from tests.alerts.test_outages import body, down

Cli = Callable[..., Any]


@pytest.fixture
def cli(db: Database, tmp_path: Path) -> Cli:
    app = typer.Typer(cls=FranchiseGroup, no_args_is_help=True, pretty_exceptions_enable=False)
    app.add_typer(client_cmds.app, name="client")
    context = CliContext(_settings=Settings(home=tmp_path), db=db, migrated=True)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["client", "outage", *args], obj=context)


@pytest.fixture
def acme(db: Database) -> int:
    with db.unit_of_work() as session:
        return add_client(session, name="Acme").id


def stored(db: Database, client_id: int) -> tuple[int | None, int | None]:
    with db.unit_of_work() as session:
        client = session.get(Client, client_id)
        assert client is not None
        return client.outage_alert_groups, client.outage_window_minutes


def test_cli_shows_the_organisations_values_until_the_client_has_its_own(
    db: Database, cli: Cli, acme: int
) -> None:
    with db.unit_of_work() as session:
        set_setting(session, "outage_window_minutes", 15)
    shown = cli("show", "Acme", "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output) == {
        "client": "Acme",
        "enabled": True,
        "alert_groups": 5,
        "window_minutes": 15,
        "alert_groups_from": "organisation",
        "window_minutes_from": "organisation",
    }
    changed = cli("set", "Acme", "--groups", "3")
    assert changed.exit_code == 0, changed.output
    assert (
        "Acme: outage correlation 3 new alert groups (client) within 15 minutes (organisation)"
        in " ".join(changed.output.split())
    )
    assert stored(db, acme) == (3, None)
    assert cli("set", str(acme), "--window", "30").exit_code == 0  # by id; groups stay 3
    assert stored(db, acme) == (3, 30)
    off = cli("set", "Acme", "--off")
    assert "Acme: outage correlation off (client)" in " ".join(off.output.split())
    assert stored(db, acme) == (0, 30)
    assert cli("set", "Acme", "--groups", "default", "--window", "default").exit_code == 0
    assert stored(db, acme) == (None, None)


def test_cli_refuses_bad_values_naming_the_client_and_keeps_the_old_ones(
    db: Database, cli: Cli, acme: int
) -> None:
    assert cli("set", "Acme", "--groups", "4").exit_code == 0
    for args, message in (
        (
            ("--groups", "many"),
            "client 'Acme': setting 'outage_alert_groups': 'many' is not valid; "
            "use a whole number from 0 to 10000",
        ),
        (
            ("--window", "0"),
            "client 'Acme': setting 'outage_window_minutes': '0' is not valid; "
            "use a whole number from 1 to 1440",
        ),
        (("--off", "--groups", "2"), "give --off or --groups, not both"),
        ((), "nothing to set: give --groups, --window or --off"),
    ):
        result = cli("set", "Acme", *args)
        assert result.exit_code != 0
        assert message in " ".join(result.output.split()), result.output
    assert stored(db, acme) == (4, None)
    missing = cli("show", "Nobody")
    assert missing.exit_code != 0 and "no client 'Nobody'" in missing.output


@pytest.fixture
def api(db: Database, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    headers = {}
    with db.unit_of_work() as session:
        for role, level in (("technician", "L1"), ("owner", "owner")):
            staff = add_staff(
                session, name=level, email=f"{level}@example.com", role=role, level=level
            )
            headers[level] = f"Bearer {create_token(session, staff=staff, name='t')[1]}"
    app = create_app(Settings(home=tmp_path), db=db)
    with TestClient(app) as client:
        yield client, headers


def test_api_reads_and_sets_the_clients_values(
    db: Database, api: tuple[TestClient, dict[str, str]], acme: int
) -> None:
    client, headers = api
    url = "/api/v1/clients/Acme/outage"
    read = client.get(url, headers={"Authorization": headers["L1"]})
    assert read.status_code == 200
    assert (read.json()["alert_groups"], read.json()["window_minutes"]) == (5, 10)
    # Technicians read; the owner and admins change it.
    denied = client.put(url, json={"alert_groups": 2}, headers={"Authorization": headers["L1"]})
    assert denied.status_code == 403
    owner = {"Authorization": headers["owner"]}
    put = client.put(url, json={"alert_groups": 2, "window_minutes": 5}, headers=owner)
    assert put.status_code == 200, put.text
    assert put.json()["alert_groups_from"] == "client"
    assert stored(db, acme) == (2, 5)
    bad = client.put(url, json={"alert_groups": -1}, headers=owner)
    assert bad.status_code == 422 and "alert_groups" in bad.text
    assert stored(db, acme) == (2, 5)
    # Null returns a value to the organisation's.
    back = client.put(url, json={"alert_groups": None, "window_minutes": None}, headers=owner)
    assert back.json()["alert_groups_from"] == "organisation"
    assert stored(db, acme) == (None, None)


def test_the_worker_follows_the_values_set_by_the_cli(
    db: Database,
    cli: Cli,
    acme: int,
    make_integration: Callable[..., tuple[Integration, str]],
    post: Callable[..., int],
    drain: Callable[[], Report],
) -> None:
    integration, _ = make_integration("alertmanager", client="Acme", group_by="alert")
    assert cli("set", "Acme", "--groups", "2").exit_code == 0
    post(integration, body(down("a1"), down("a2")))
    assert drain().outcomes == {"opened": 1, "outage-opened": 1}
    assert cli("set", "Acme", "--off").exit_code == 0
    post(integration, body(down("b1", site="B"), down("b2", site="B"), down("b3", site="B")))
    assert drain().outcomes == {"opened": 3}
