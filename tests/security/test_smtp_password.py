"""Finding 4: the stored SMTP password is never handed to a server it was not typed for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from franchise.accounts.service import add_staff
from franchise.accounts.sessions import start_session
from franchise.app import create_app
from franchise.db import Database
from franchise.orgsettings.secrets import effective_settings, set_delivery_setting
from franchise.settings import Settings
from franchise.web.auth import SESSION_COOKIE

SAVED = {
    "smtp_host": "smtp.acme.example",
    "smtp_port": "465",
    "smtp_user": "help",
    "smtp_tls": "ssl",
}


def _save_all(session: Session, settings: Settings) -> None:
    for key, value in SAVED.items():
        set_delivery_setting(session, key, value, settings)
    set_delivery_setting(session, "smtp_password", "relay-Pa55word", settings)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("smtp_host", "mail.attacker.example"),
        ("smtp_port", "25"),
        ("smtp_user", "someone-else"),
        ("smtp_tls", "none"),
        ("smtp_host", ""),  # back to the environment's host, which is another server
    ],
)
def test_changing_where_or_how_clears_the_stored_password(
    session: Session, tmp_path: Path, key: str, value: str
) -> None:
    settings = Settings(home=tmp_path, smtp_host="env.example")
    _save_all(session, settings)
    assert effective_settings(session, settings).smtp_password == "relay-Pa55word"
    set_delivery_setting(session, key, value, settings)
    assert effective_settings(session, settings).smtp_password == ""


def test_saving_the_same_values_or_another_sender_keeps_it(
    session: Session, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path)
    _save_all(session, settings)
    for key, value in SAVED.items():
        set_delivery_setting(session, key, value, settings)
    set_delivery_setting(session, "smtp_from", "Acme IT <help@acme.example>", settings)
    assert effective_settings(session, settings).smtp_password == "relay-Pa55word"


def test_the_settings_page_clears_it_when_only_the_host_changes(
    db: Database, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path)
    with db.unit_of_work() as session:
        _save_all(session, settings)
        owner = add_staff(
            session, name="Olivia", email="o@example.com", role="owner", level="owner"
        )
        _row, cookie = start_session(session, owner)
    app = create_app(settings, db=db)
    with TestClient(app, follow_redirects=False, cookies={SESSION_COOKIE: cookie}) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/settings").text)
        assert token is not None
        form = {**SAVED, "smtp_host": "mail.attacker.example", "smtp_tls": "none"}
        answer = client.post("/settings/mail", data={**form, "csrf_token": token.group(1)})
        assert answer.status_code == 303
    with db.unit_of_work() as session:
        effective = effective_settings(session, settings)
    assert (effective.smtp_host, effective.smtp_password) == ("mail.attacker.example", "")
