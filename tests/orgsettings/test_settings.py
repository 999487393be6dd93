"""Organisation settings: defaults, validation with clear messages, CLI and API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from franchise.db import Database
from franchise.errors import InvalidInput
from franchise.orgsettings.models import OrgSetting
from franchise.orgsettings.service import OrgConfig, get_config, get_setting, set_setting
from franchise.orgsettings.values import parse_business_hours
from tests.contacts.helpers import Invoker, api_client, bearer_tokens


def test_defaults_when_nothing_is_stored(session: Session) -> None:
    config = get_config(session)
    assert config.to_dict() == {
        "timezone": "UTC",
        "business_hours": {
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "08:00",
            "end": "18:00",
        },
        "kpi_target_max": 2,
        "drill_days": 3,
        "drill_cadence_days": 30,
        "currency": "USD",
        "org_name": "Your MSP",
        "auto_send_resolved_message": False,
        "outage_alert_groups": 5,
        "outage_window_minutes": 10,
        "require_mfa": "managers",
    }


def test_set_values_are_stored_typed(session: Session) -> None:
    set_setting(session, "timezone", "Europe/Berlin")
    set_setting(session, "business_hours", "mon,wed,fri 09:00-17:30")
    set_setting(session, "kpi_target_max", "3")
    set_setting(session, "drill_cadence_days", "monthly")
    set_setting(session, "drill_days", 5)
    set_setting(session, "currency", "eur")
    config = set_setting(session, "org_name", "  Acme IT  ")
    assert config == get_config(session)
    assert config.timezone == "Europe/Berlin"
    assert config.tz.key == "Europe/Berlin"
    assert config.business_hours.days == ("mon", "wed", "fri")
    assert (config.business_hours.start_minute, config.business_hours.end_minute) == (540, 1050)
    assert (config.kpi_target_max, config.drill_cadence_days, config.drill_days) == (3, 30, 5)
    assert (config.currency, config.org_name) == ("EUR", "Acme IT")


def test_setting_again_replaces_the_value(session: Session) -> None:
    set_setting(session, "currency", "GBP")
    assert set_setting(session, "currency", "CHF").currency == "CHF"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("timezone", "Mars/Olympus", "setting 'timezone'.*IANA time zone name"),
        ("timezone", "", "setting 'timezone'"),
        ("business_hours", "mon-fri 18:00-08:00", "setting 'business_hours'.*mon-fri 08:00-18:00"),
        ("business_hours", "monday-friday 8-18", "setting 'business_hours'"),
        ("business_hours", "mon-fri 08:00-25:00", "setting 'business_hours'"),
        ("business_hours", "mon-fri", "setting 'business_hours'"),
        ("kpi_target_max", "-1", "setting 'kpi_target_max'.*whole number from 0"),
        ("kpi_target_max", "two", "setting 'kpi_target_max'"),
        ("drill_days", "0", "setting 'drill_days'.*from 1 to 30"),
        ("drill_cadence_days", "yearly", "setting 'drill_cadence_days'.*monthly"),
        ("currency", "EURO", "setting 'currency'.*ISO 4217"),
        ("org_name", "   ", "setting 'org_name'"),
        (
            "auto_send_resolved_message",
            "sometimes",
            "setting 'auto_send_resolved_message'.*on or off",
        ),
        ("auto_send_resolved_message", "", "setting 'auto_send_resolved_message'"),
        ("colour", "blue", "unknown setting 'colour' \\(use timezone, business_hours"),
    ],
)
def test_bad_values_name_the_key_and_the_accepted_form(
    session: Session, key: str, value: str, expected: str
) -> None:
    with pytest.raises(InvalidInput, match=expected):
        set_setting(session, key, value)
    assert get_config(session) == OrgConfig()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("on", True), ("YES", True), ("true", True), (True, True), ("off", False), ("0", False)],
)
def test_auto_send_resolved_message_is_a_switch(
    session: Session, value: object, expected: bool
) -> None:
    assert (
        set_setting(session, "auto_send_resolved_message", value).auto_send_resolved_message
        is expected
    )
    assert get_setting(session, "auto_send_resolved_message") is expected


def test_one_setting_is_read_without_the_others(session: Session) -> None:
    session.add(OrgSetting(key="timezone", value={"value": "Mars/Olympus"}))
    assert get_setting(session, "auto_send_resolved_message") is False
    with pytest.raises(InvalidInput, match="stored setting 'timezone'"):
        get_setting(session, "timezone")
    with pytest.raises(InvalidInput, match="unknown setting 'colour'"):
        get_setting(session, "colour")


def test_business_hours_accepts_json_and_text_forms() -> None:
    text = parse_business_hours("mon-fri 08:00-18:00")
    data = parse_business_hours(
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}
    )
    assert text == data
    assert text.describe() == "mon-fri 08:00-18:00"
    assert parse_business_hours("mon-sun 00:00-24:00").describe() == "mon-sun 00:00-24:00"


def test_cli_set_and_show(db: Database, tmp_path: Path) -> None:
    run = Invoker(db, tmp_path)
    result = run("settings", "set", "timezone", "Europe/Berlin")
    assert result.exit_code == 0, result.output
    assert "timezone = Europe/Berlin" in result.output
    result = run("settings", "set", "business_hours", "mon-fri 07:30-17:00")
    assert result.exit_code == 0, result.output
    assert "business_hours = mon-fri 07:30-17:00" in result.output
    data = json.loads(run("settings", "show", "--json").output)
    assert data["timezone"] == "Europe/Berlin"
    assert data["business_hours"] == {
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "07:30",
        "end": "17:00",
    }
    table = run("settings", "show").output
    assert "Europe/Berlin" in table
    assert "mon-fri 07:30-17:00" in table


def test_cli_switches_the_resolved_message_on_and_off(db: Database, tmp_path: Path) -> None:
    run = Invoker(db, tmp_path)
    result = run("settings", "set", "auto_send_resolved_message", "on")
    assert result.exit_code == 0, result.output
    assert "auto_send_resolved_message = on" in result.output
    assert json.loads(run("settings", "show", "--json").output)["auto_send_resolved_message"]
    assert (
        "auto_send_resolved_message = off"
        in run("settings", "set", "auto_send_resolved_message", "off").output
    )


def test_cli_bad_value_is_a_red_line_not_a_traceback(db: Database, tmp_path: Path) -> None:
    result = Invoker(db, tmp_path)("settings", "set", "timezone", "Berlin")
    assert result.exit_code == 2
    assert "setting 'timezone': 'Berlin' is not valid" in result.output
    assert "Traceback" not in result.output


def test_api_settings_read_by_staff_changed_by_managers_only(db: Database, tmp_path: Path) -> None:
    headers = bearer_tokens(db)
    with api_client(db, tmp_path) as client:
        assert client.get("/api/v1/settings").status_code == 401
        assert client.get("/api/v1/settings", headers=headers["L1"]).json()["timezone"] == "UTC"
        denied = client.put(
            "/api/v1/settings/timezone", json={"value": "Asia/Tokyo"}, headers=headers["L1"]
        )
        assert denied.status_code == 403
        ok = client.put(
            "/api/v1/settings/business_hours",
            json={"value": {"days": ["sat", "sun"], "start": "10:00", "end": "14:00"}},
            headers=headers["owner"],
        )
        assert ok.status_code == 200, ok.text
        assert ok.json()["business_hours"]["days"] == ["sat", "sun"]
        bad = client.put(
            "/api/v1/settings/timezone", json={"value": "Nowhere"}, headers=headers["owner"]
        )
        assert bad.status_code == 422
        assert "setting 'timezone'" in bad.json()["error"]
        after = client.get("/api/v1/settings", headers=headers["L1"]).json()
        assert (after["timezone"], after["business_hours"]["start"]) == ("UTC", "10:00")
        switched = client.put(
            "/api/v1/settings/auto_send_resolved_message",
            json={"value": True},
            headers=headers["owner"],
        )
        assert switched.status_code == 200, switched.text
        assert switched.json()["auto_send_resolved_message"] is True
