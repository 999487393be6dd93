"""`franchise user channel ...`, the channels API, and ask-owner's `delivered: [...]`."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from franchise.accounts.service import add_staff, create_token
from franchise.app import create_app
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.settings import Settings
from franchise.tickets.service import create_ticket
from tests.notify.receiver import receiver
from tests.support import CliInvoker

TEAMS = "https://prod-12.westeurope.logic.azure.com/workflows/abc?sig=SECRETSIG"


def crew(db: Database) -> int:
    with db.unit_of_work() as session:
        initialise(session)
        add_staff(session, name="Lia", email="lia@example.com", role="technician", level="L1")
        add_staff(session, name="Olu", email="olu@example.com", role="owner", level="owner")
        return create_ticket(session, title="Client wants a discount").id


def test_channel_set_list_and_clear_from_the_command_line(cli: CliInvoker, db: Database) -> None:
    crew(db)
    done = cli("user", "channel", "set", "lia@example.com", "teams", TEAMS)
    assert done.exit_code == 0, done.output
    assert "teams channel saved for Lia." in done.output
    listed = cli("user", "channel", "list", "lia@example.com", "--json")
    assert json.loads(listed.output) == [
        {
            "staff": "lia@example.com",
            "name": "Lia",
            "email": False,
            "channels": [
                {
                    "kind": "teams",
                    "host": "prod-12.westeurope.logic.azure.com",
                    "slack_user_id": None,
                    "trouble": None,
                }
            ],
        }
    ]
    assert "SECRETSIG" not in cli("user", "channel", "list").output
    assert "teams channel removed." in cli("user", "channel", "clear", "lia", "teams").output
    bad = cli("user", "channel", "set", "lia", "slack", "hooks.slack.com/no-scheme")
    assert bad.exit_code == 2
    assert "Slack incoming webhook URL" in bad.output


def test_ask_owner_says_nobody_was_told_when_nothing_is_configured(
    cli: CliInvoker, db: Database
) -> None:
    ticket = crew(db)
    out = cli(
        "ask-owner", str(ticket), "--by", "lia", "--reason", "other", "--question", "10% off?"
    )
    assert out.exit_code == 0, out.output
    assert "delivered: []" in out.output
    assert "No notification channel is configured, so the owner sees this only" in out.output


def test_ask_owner_names_the_channel_that_carried_it(cli: CliInvoker, db: Database) -> None:
    ticket = crew(db)
    with receiver() as rx:
        assert cli("user", "channel", "set", "olu", "teams", rx.http_url("/olu")).exit_code == 0
        out = cli(
            "ask-owner", str(ticket), "--by", "lia", "--reason", "other", "--question", "10%?"
        )
    assert "delivered: [Teams]" in out.output
    assert "The owner was notified by Teams." in out.output
    assert rx.paths == ["/olu"]


def test_the_api_sets_and_lists_channels_and_ask_owner_reports_delivery(
    db: Database, tmp_path: Path
) -> None:
    ticket = crew(db)
    with db.unit_of_work() as session:
        from franchise.accounts.service import get_staff

        _, lia_token = create_token(session, staff=get_staff(session, "lia"), name="t")
        _, olu_token = create_token(session, staff=get_staff(session, "olu"), name="t")
    app = create_app(Settings(home=tmp_path), db=db)
    lia = {"Authorization": f"Bearer {lia_token}"}
    olu = {"Authorization": f"Bearer {olu_token}"}
    with TestClient(app) as client:
        answer = client.post(
            f"/api/v1/tickets/{ticket}/ask-owner",
            json={"reason": "other", "question": "10%?"},
            headers=lia,
        ).json()
        assert answer["delivered"] == []
        assert answer["delivery"].startswith("No notification channel is configured, so the")
        put = client.put("/api/v1/staff/lia/channels/teams", json={"url": TEAMS}, headers=lia)
        assert put.status_code == 200
        assert put.json()["channels"][0]["host"] == "prod-12.westeurope.logic.azure.com"
        # An L1 may not change or see someone else's channels; the owner may.
        assert (
            client.put(
                "/api/v1/staff/olu/channels/teams", json={"url": TEAMS}, headers=lia
            ).status_code
            == 403
        )
        assert client.get("/api/v1/staff/olu/channels", headers=lia).status_code == 403
        seen = client.get("/api/v1/staff/lia/channels", headers=olu).json()
        assert [c["kind"] for c in seen["channels"]] == ["teams"]
        assert "SECRETSIG" not in json.dumps(seen)
        assert client.delete("/api/v1/staff/lia/channels/teams", headers=olu).status_code == 204


def test_the_signing_secret_and_public_address_are_stored_from_the_command_line(
    cli: CliInvoker, db: Database
) -> None:
    from franchise.orgsettings.models import OrgSetting
    from franchise.orgsettings.secrets import effective_settings

    out = cli("settings", "delivery", "slack_signing_secret", "8f742231b10e8888abcd99yyyzzz85a5")
    assert out.exit_code == 0, out.output
    assert out.output.strip() == "slack_signing_secret: set"
    assert cli("settings", "delivery", "public_url", "https://f.acme.example/").exit_code == 0
    assert cli("settings", "delivery", "public_url", "ftp://x").exit_code == 2
    with db.unit_of_work() as session:
        row = session.get(OrgSetting, "slack_signing_secret")
        assert row is not None and "8f742231" not in str(row.value)
        effective = effective_settings(session, cli.context.settings)
    assert effective.slack_signing_secret == "8f742231b10e8888abcd99yyyzzz85a5"
    assert effective.base_url == "https://f.acme.example"
