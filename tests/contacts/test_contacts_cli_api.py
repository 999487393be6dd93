"""`franchise contact ...`, `franchise kpi` and the /contacts, /kpi routes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from franchise.accounts.service import add_staff
from franchise.cli.context import console
from franchise.contacts.models import OwnerContact
from franchise.db import Database, utcnow
from franchise.orgsettings.service import set_setting
from tests.contacts.helpers import Invoker, api_client, bearer_tokens
from tests.contacts.test_contacts import CSV_WITH_TWO_BAD_ROWS


def stored(db: Database) -> int:
    with db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(OwnerContact)) or 0


def berlin_staff(run: Invoker, db: Database) -> None:
    with db.unit_of_work() as session:
        set_setting(session, "timezone", "Europe/Berlin")
    result = run("settings", "show", "--json")
    assert json.loads(result.output)["timezone"] == "Europe/Berlin"


def test_cli_log_reads_a_naive_time_as_org_time(run: Invoker, db: Database) -> None:
    berlin_staff(run, db)
    result = run(
        "contact",
        "log",
        "--channel",
        "call",
        "--reason",
        "approval",
        "--at",
        "2026-03-02T18:00",
        "--minutes",
        "7",
        "--emergency",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    # 18:00 Berlin (CET) is 17:00Z, exactly at closing: after hours.
    assert data["occurred_at"] == "2026-03-02T17:00:00+00:00"
    assert (data["after_hours"], data["emergency"], data["minutes"]) == (True, True, 7)


def test_cli_log_refuses_bad_input_with_a_message(run: Invoker) -> None:
    result = run("contact", "log", "--channel", "fax", "--reason", "approval")
    assert result.exit_code == 2
    assert "unknown channel 'fax'" in result.output
    result = run("contact", "log", "--channel", "call", "--reason", "approval", "--at", "soon")
    assert result.exit_code == 2
    assert "--at 'soon' is not an ISO 8601 time" in result.output


def test_cli_import_keeps_good_rows_and_exits_1_for_bad_ones(
    run: Invoker, db: Database, tmp_path: Path
) -> None:
    with db.unit_of_work() as session:
        add_staff(session, name="Ana Lee", email="ana@example.com", role="technician", level="L1")
    path = tmp_path / "contacts.csv"
    path.write_text(CSV_WITH_TWO_BAD_ROWS.format(ticket=""))
    result = run("contact", "import", str(path), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["imported"] == 3
    assert [e["line"] for e in report["errors"]] == [3, 5]
    assert stored(db) == 3  # committed although the command exits 1

    good = tmp_path / "good.csv"
    good.write_text(
        "occurred_at,channel,ticket,by,reason,minutes,emergency\n2026-03-02T09:00,call,,,other,1,no\n"
    )
    result = run("contact", "import", str(good))
    assert result.exit_code == 0, result.output
    assert "Imported 1 contact(s)" in result.output


def test_cli_import_with_wrong_header_is_one_error(
    run: Invoker, db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("date,channel\n2026-03-02,call\n")
    result = run("contact", "import", str(path))
    assert result.exit_code == 2
    assert (
        "line 1: the header must be occurred_at,channel,ticket,by,reason,minutes,emergency"
        in result.output
    )
    assert stored(db) == 0


def test_cli_list_and_kpi(run: Invoker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 160)  # the test runner's terminal is 80 wide
    now = utcnow()
    for minutes in (5, 10):
        at = (now - timedelta(minutes=minutes)).isoformat()
        assert (
            run(
                "contact",
                "log",
                "--channel",
                "text",
                "--reason",
                "escalation",
                "--at",
                at,
                "--minutes",
                str(minutes),
            ).exit_code
            == 0
        )
    assert (
        run(
            "contact",
            "log",
            "--channel",
            "in_app",
            "--reason",
            "approval",
            "--outcome",
            "deflection",
        ).exit_code
        == 0
    )

    listed = json.loads(run("contact", "list", "--json").output)
    assert [c["outcome"] for c in listed] == ["deflection", "interruption", "interruption"]
    assert "escalation" in run("contact", "list").output

    report = json.loads(run("kpi", "--weeks", "3", "--json").output)
    this_week = report["weeks"][-1]
    assert (this_week["interruptions"], this_week["deflections"], this_week["owner_minutes"]) == (
        2,
        1,
        15,
    )
    assert report["by_channel"] == [{"name": "text", "count": 2, "minutes": 15}]
    table = run("kpi", "--weeks", "3").output
    assert "██" in table
    assert "(to date)" in table
    assert "4-week average: 0.0 per week (target 0–2): on target" in table
    assert "Top reason: escalation 2" in table


def test_api_post_contact_defaults_to_the_token_staff(db: Database, tmp_path: Path) -> None:
    headers = bearer_tokens(db)
    with db.unit_of_work() as session:
        set_setting(session, "timezone", "America/Los_Angeles")
    with api_client(db, tmp_path) as client:
        body = {
            "channel": "call",
            "reason": "approval",
            "minutes": 4,
            "occurred_at": "2026-03-06T17:30:00",
        }
        assert client.post("/api/v1/contacts", json=body).status_code == 401
        # A technician logs their own contacts of the last day; a March contact is the owner's
        # to log, in the technician's name.
        old = client.post("/api/v1/contacts", json=body, headers=headers["L1"])
        assert old.status_code == 403
        assert "last 24 hours" in old.json()["error"]
        created = client.post(
            "/api/v1/contacts", json={**body, "by": "tech@example.com"}, headers=headers["owner"]
        )
        assert created.status_code == 201, created.text
        data = created.json()
        # Friday 17:30 PST (naive: org time) = Saturday 01:30Z, but open in Los Angeles.
        assert data["occurred_at"] == "2026-03-07T01:30:00+00:00"
        assert (data["by"], data["after_hours"], data["outcome"]) == ("tech", False, "interruption")

        forged = client.post(
            "/api/v1/contacts",
            json={
                "channel": "chat",
                "reason": "other",
                "by": "boss@example.com",
                "outcome": "deflection",
                "occurred_at": datetime.now(UTC).isoformat(),
            },
            headers=headers["L1"],
        )
        assert forged.status_code == 403
        assert "in someone else's name" in forged.json()["error"]

        on_behalf = client.post(
            "/api/v1/contacts",
            json={
                "channel": "chat",
                "reason": "other",
                "by": "boss@example.com",
                "outcome": "deflection",
                "occurred_at": datetime.now(UTC).isoformat(),
            },
            headers=headers["owner"],
        )
        assert on_behalf.json()["by"] == "boss"

        bad = client.post(
            "/api/v1/contacts", json={**body, "channel": "fax"}, headers=headers["owner"]
        )
        assert bad.status_code == 422
        assert "unknown channel 'fax'" in bad.json()["error"]

        listed = client.get("/api/v1/contacts?weeks=1", headers=headers["L1"]).json()
        assert [c["channel"] for c in listed] == ["chat"]  # the March contact is older
        kpi = client.get("/api/v1/kpi?weeks=2", headers=headers["L1"]).json()
        assert kpi["timezone"] == "America/Los_Angeles"
        assert len(kpi["weeks"]) == 2
        assert kpi["weeks"][-1]["deflections"] == 1
        assert client.get("/api/v1/kpi?weeks=0", headers=headers["L1"]).status_code == 422
