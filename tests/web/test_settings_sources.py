"""The Settings page shows each setting in force and where it comes from."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from franchise.db import Database
from franchise.orgsettings.secrets import set_delivery_setting
from franchise.orgsettings.service import set_setting
from tests.web.conftest import LiveServer, Member


def _row(html: str, key: str) -> str:
    found = re.search(rf'<tr data-setting="{key}">(.*?)</tr>', html, re.S)
    assert found is not None, key
    return found.group(1)


def test_the_settings_page_lists_each_value_in_force_and_its_source(
    live: LiveServer,
    db: Database,
    make_staff: Callable[..., Member],
    session_cookie: Callable[[Member], dict[str, str]],
) -> None:
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    with db.unit_of_work() as session:
        set_setting(session, "currency", "EUR")
        set_delivery_setting(
            session, "smtp_from", "Acme IT <help@acme.example>", live.app.state.settings
        )
        set_delivery_setting(session, "smtp_password", "Never-Shown-9", live.app.state.settings)
    with httpx.Client(base_url=live.url, cookies=session_cookie(owner)) as http:
        html = http.get("/settings").text
    currency = _row(html, "currency")
    assert "EUR" in currency and 'data-source="saved"' in currency
    assert "saved in Franchise" in currency
    sender = _row(html, "smtp_from")
    assert "Acme IT &lt;help@acme.example&gt;" in sender
    assert "<code>FRANCHISE_SMTP_FROM</code>" in sender
    port = _row(html, "smtp_port")
    server = live.app.state.settings
    expected = "environment" if "smtp_port" in server.model_fields_set else "default"
    assert f"{server.smtp_port} " in port or f"{server.smtp_port}<" in port
    assert f'data-source="{expected}"' in port
    assert 'data-source="default"' in _row(html, "drill_days")
    password = _row(html, "smtp_password")
    assert ">set" in password and 'data-source="saved"' in password
    assert "Never-Shown-9" not in html
