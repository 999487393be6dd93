"""The Settings page: organisation settings, write-only secrets, and API tokens."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from franchise.db import Database
from franchise.errors import InvalidInput
from franchise.orgsettings.models import OrgSetting
from franchise.orgsettings.secrets import (
    SECRET_KEYS,
    delivery_overview,
    effective_settings,
    set_delivery_setting,
)
from franchise.orgsettings.service import get_config
from franchise.settings import Settings
from tests.web.conftest import BrowserLog, LiveServer, Member, screenshot

Cookie = Callable[[Member], dict[str, str]]
SignIn = Callable[[Page, Member], None]
PASSWORD_SECRET = "s3cret-Smtp-Pa55word"
APPRISE_SECRET = "tgram://123456:AAAbotTOKENsecret/987654"


@pytest.fixture
def owner(make_staff: Callable[..., Member]) -> Member:
    return make_staff("Olivia Owner", role="owner", level="owner")


def test_owner_saves_organisation_settings_with_errors_next_to_fields(
    page: Page, db: Database, owner: Member, sign_in_as: SignIn, browser_log: BrowserLog
) -> None:
    sign_in_as(page, owner)
    page.goto("/settings")
    form = page.locator("#organisation form")
    form.get_by_label("Time zone").fill("Mars/Olympus_Mons")
    form.get_by_label("Currency").fill("EUR")
    form.get_by_label("Business hours").fill("mon-fri 18:00-08:00")
    form.get_by_role("button", name="Save organisation settings").click()
    expect(page.locator("#err-timezone")).to_contain_text("IANA time zone")
    expect(page.locator("#err-business_hours")).to_contain_text("the end must be after the start")
    expect(page.locator("#err-currency")).to_have_count(0)
    expect(form.get_by_label("Time zone")).to_have_value("Mars/Olympus_Mons")
    with db.unit_of_work() as session:
        assert get_config(session).currency == "USD"  # nothing half-saved

    form.get_by_label("Time zone").fill("Europe/Berlin")
    form.get_by_label("Business hours").fill("mon-fri 07:30-17:00")
    form.get_by_label("KPI target").fill("3")
    form.get_by_label("Drill length").fill("2")
    form.get_by_label("Drill cadence").fill("weekly")
    form.get_by_label("Organisation name").fill("Acme Managed IT")
    form.get_by_role("button", name="Save organisation settings").click()
    expect(page.get_by_role("status")).to_contain_text("Organisation settings saved")
    with db.unit_of_work() as session:
        config = get_config(session)
    assert (config.timezone, config.currency, config.kpi_target_max) == ("Europe/Berlin", "EUR", 3)
    assert (config.drill_days, config.drill_cadence_days) == (2, 7)
    assert config.business_hours.describe() == "mon-fri 07:30-17:00"
    expect(page.locator(".brand small")).to_have_text("Acme Managed IT")
    expect(form.get_by_label("Drill cadence")).to_have_value("7")
    assert browser_log.errors == []


def test_owner_switches_the_resolved_message_on_and_off(
    page: Page, db: Database, owner: Member, sign_in_as: SignIn
) -> None:
    sign_in_as(page, owner)
    page.goto("/settings")
    form = page.locator("#organisation form")
    switch = form.get_by_label("E-mail the client the resolved message when a ticket is resolved")
    expect(switch).not_to_be_checked()
    for on in (True, False):
        switch.set_checked(on)
        form.get_by_role("button", name="Save organisation settings").click()
        expect(page.get_by_role("status")).to_contain_text("Organisation settings saved")
        # An unticked box sends nothing: that must store "off", not keep "on".
        expect(switch).to_be_checked(checked=on)
        with db.unit_of_work() as session:
            assert get_config(session).auto_send_resolved_message is on


def test_secrets_are_write_only(
    page: Page,
    db: Database,
    live: LiveServer,
    owner: Member,
    sign_in_as: SignIn,
    browser_log: BrowserLog,
) -> None:
    sign_in_as(page, owner)
    page.goto("/settings")
    mail = page.locator("#mail form")
    mail.get_by_label("Server").fill("smtp.example.com")
    mail.get_by_label("Port").fill("465")
    mail.get_by_label("Encryption").select_option("ssl")
    mail.get_by_label("User name").fill("help@acme.example")
    mail.get_by_label("Sender (From)").fill("Acme IT <help@acme.example>")
    mail.get_by_label("Replace password").fill(PASSWORD_SECRET)
    mail.get_by_role("button", name="Save e-mail settings").click()
    expect(page.get_by_role("status")).to_contain_text("Client e-mail settings saved")
    expect(page.locator("#smtp-password")).to_contain_text("Set")

    notify = page.locator("#notifications form")
    notify.get_by_label("Replace with").fill(APPRISE_SECRET + "\nmailto://owner:pw@example.com")
    notify.get_by_role("button", name="Save notification settings").click()
    expect(page.locator("#notifications")).to_contain_text("2 URLs: mailto, tgram")

    page.goto("/settings")
    screenshot(page, "settings.png")
    html = page.content()
    assert PASSWORD_SECRET not in html
    assert "AAAbotTOKENsecret" not in html and "owner:pw" not in html
    server_settings: Settings = live.app.state.settings
    with db.unit_of_work() as session:
        effective = effective_settings(session, server_settings)
        # Sealed in the database: a copy of it does not give the secrets away.
        stored = {key: json.dumps(session.get(OrgSetting, key).value) for key in SECRET_KEYS[:2]}  # type: ignore[union-attr]
    assert PASSWORD_SECRET not in stored["smtp_password"]
    assert "AAAbotTOKENsecret" not in stored["notify_urls"]
    assert "owner:pw" not in stored["notify_urls"]
    assert effective.smtp_password == PASSWORD_SECRET
    assert (effective.smtp_host, effective.smtp_port, effective.smtp_tls) == (
        "smtp.example.com",
        465,
        "ssl",
    )
    assert effective.notify_urls == APPRISE_SECRET + " mailto://owner:pw@example.com"

    # A bad value elsewhere in the form does not echo the typed password back.
    mail.get_by_label("Port").fill("99999")
    mail.get_by_label("Replace password").fill("another-Secret-typed")
    mail.get_by_role("button", name="Save e-mail settings").click()
    expect(page.locator("#mail .field-error")).to_contain_text("smtp_port")
    assert "another-Secret-typed" not in page.content()

    page.goto("/settings")
    mail.get_by_label("Clear the stored password").check()
    mail.get_by_role("button", name="Save e-mail settings").click()
    expect(page.locator("#smtp-password")).to_contain_text("Not set")
    with db.unit_of_work() as session:
        assert effective_settings(session, server_settings).smtp_password == ""
    assert browser_log.errors == []


def test_token_value_is_shown_once_and_revoking_stops_it(
    page: Page, live: LiveServer, owner: Member, sign_in_as: SignIn, browser_log: BrowserLog
) -> None:
    sign_in_as(page, owner)
    page.goto("/settings")
    tokens = page.locator("#tokens")
    tokens.get_by_label("Name").fill("phone system")
    tokens.get_by_role("button", name="Create token").click()
    value = page.locator("#new-token-value").inner_text().strip()
    assert len(value) > 30
    expect(tokens.locator("tr", has_text="phone system")).to_contain_text(value[:10])
    api = httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {value}"})
    assert api.get("/api/v1/settings").status_code == 200

    page.goto("/settings")
    assert value not in page.content()
    expect(page.locator("#new-token-value")).to_have_count(0)
    page.get_by_role("button", name="Revoke token phone system").click()
    expect(page.get_by_role("status")).to_contain_text("Token revoked")
    expect(tokens.locator("tr", has_text="phone system")).to_contain_text("Revoked")
    assert api.get("/api/v1/settings").status_code == 401
    api.close()
    assert browser_log.errors == []


@pytest.mark.parametrize("role", ["technician", "service_manager"])
def test_only_owner_and_admin_open_settings(
    page: Page,
    live: LiveServer,
    make_staff: Callable[..., Member],
    sign_in_as: SignIn,
    session_cookie: Cookie,
    role: str,
) -> None:
    member = make_staff("Not A Manager", role=role)
    sign_in_as(page, member)
    response = page.goto("/settings")
    assert response is not None
    assert response.status == 403
    expect(page.locator(".side-nav").get_by_role("link", name="Settings")).to_have_count(0)
    with httpx.Client(base_url=live.url, cookies=session_cookie(member)) as http:
        page_html = http.get("/queue").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page_html)
        assert csrf is not None
        assert http.get("/settings").status_code == 403
        for path in ("/settings/tokens", "/settings/mail", "/settings/organisation"):
            posted = http.post(path, data={"csrf_token": csrf.group(1), "name": "x"})
            assert posted.status_code == 403, path


def test_effective_settings_prefers_stored_values_and_keeps_the_environment(
    session: Session,
) -> None:
    env = Settings(home=Path("/x"), smtp_host="env.example.com", smtp_user="env-user")
    assert effective_settings(session, env) is env
    set_delivery_setting(session, "smtp_host", "db.example.com", env)
    set_delivery_setting(session, "smtp_port", "2525", env)
    merged = effective_settings(session, env)
    assert (merged.smtp_host, merged.smtp_port, merged.smtp_user) == (
        "db.example.com",
        2525,
        "env-user",
    )
    set_delivery_setting(session, "smtp_host", "", env)  # clearing brings the environment back
    assert effective_settings(session, env).smtp_host == "env.example.com"
    overview = delivery_overview(session, env)
    assert overview["secrets"]["smtp_password"].is_set is False


def test_bad_secret_values_are_refused_without_echoing_them(
    session: Session, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path)
    with pytest.raises(InvalidInput) as caught:
        set_delivery_setting(session, "notify_urls", "not-a-url-but-Secret123", settings)
    assert "Secret123" not in caught.value.message
    with pytest.raises(InvalidInput):
        set_delivery_setting(session, "smtp_password", "two\nlines", settings)
    with pytest.raises(InvalidInput):
        set_delivery_setting(session, "smtp_tls", "tls1.3", settings)


def test_a_secret_sealed_with_another_key_says_so_and_can_be_replaced(
    page: Page, db: Database, live: LiveServer, owner: Member, sign_in_as: SignIn
) -> None:
    elsewhere = Settings(secret_key="a-key-of-another-installation-0123456789")
    with db.unit_of_work() as session:
        set_delivery_setting(session, "smtp_password", PASSWORD_SECRET, elsewhere)
    sign_in_as(page, owner)
    page.goto("/settings")
    expect(page.locator("#smtp-password")).to_contain_text("Cannot be read")
    expect(page.locator("#smtp-password")).to_contain_text("enter it again")
    mail = page.locator("#mail form")
    mail.get_by_label("Replace password").fill("a-New-password-1")
    mail.get_by_role("button", name="Save e-mail settings").click()
    expect(page.locator("#smtp-password")).to_contain_text("stored in Franchise")
    with db.unit_of_work() as session:
        assert effective_settings(session, live.app.state.settings).smtp_password == (
            "a-New-password-1"
        )
