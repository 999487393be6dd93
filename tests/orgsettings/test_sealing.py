"""Secrets saved on the Settings page are sealed with a key kept outside the database."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.orm import Session

from franchise.errors import InvalidInput
from franchise.orgsettings.models import OrgSetting
from franchise.orgsettings.sealing import KEY_FILE, Unsealable, seal, unseal
from franchise.orgsettings.secrets import (
    delivery_overview,
    effective_settings,
    set_delivery_setting,
)
from franchise.settings import Settings

URLS = "tgram://123456:AAAbotTOKENsecret/987654"


def stored_row(session: Session, key: str) -> str:
    row = session.get(OrgSetting, key)
    assert row is not None
    return json.dumps(row.value)


def test_the_key_file_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    sealed = seal(settings, "pa55word")
    key_file = tmp_path / "home" / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_bytes()
    assert "pa55word" not in sealed
    assert unseal(settings, sealed) == "pa55word"
    assert unseal(Settings(home=tmp_path / "home"), seal(settings, "again")) == "again"
    assert key_file.read_bytes() == key  # not replaced by later use
    assert list(key_file.parent.iterdir()) == [key_file]  # nothing left aside


def test_secrets_are_stored_sealed_and_read_back(session: Session, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, smtp_password="env-password")
    # The host first: a password saved before a host change is cleared by it.
    set_delivery_setting(session, "smtp_host", "smtp.example.com", settings)
    set_delivery_setting(session, "smtp_password", "db-Pa55word", settings)
    set_delivery_setting(session, "notify_urls", URLS, settings)
    assert "db-Pa55word" not in stored_row(session, "smtp_password")
    assert "AAAbotTOKENsecret" not in stored_row(session, "notify_urls")
    assert "smtp.example.com" in stored_row(session, "smtp_host")  # not a secret: plain
    effective = effective_settings(session, settings)
    assert (effective.smtp_password, effective.notify_urls) == ("db-Pa55word", URLS)
    assert effective.smtp_host == "smtp.example.com"


@pytest.mark.parametrize(
    "secret_key",
    [Fernet.generate_key().decode(), "correct horse battery staple, and more words"],
)
def test_franchise_secret_key_seals_for_every_server_that_shares_it(
    session: Session, tmp_path: Path, secret_key: str
) -> None:
    one = Settings(home=tmp_path / "one", secret_key=secret_key)
    two = Settings(home=tmp_path / "two", secret_key=secret_key)
    set_delivery_setting(session, "smtp_password", "shared-Pa55", one)
    assert effective_settings(session, two).smtp_password == "shared-Pa55"
    assert not (tmp_path / "one" / KEY_FILE).exists()  # the key is not written anywhere


def test_a_short_secret_key_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="FRANCHISE_SECRET_KEY: use at least 32"):
        seal(Settings(home=tmp_path, secret_key="hunter2"), "x")


def test_a_damaged_key_file_is_named(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE).write_text("not a key\n")
    with pytest.raises(InvalidInput, match=KEY_FILE):
        seal(Settings(home=tmp_path), "x")


def test_a_secret_sealed_with_another_key_is_skipped_and_reported(
    session: Session, tmp_path: Path
) -> None:
    other = Settings(home=tmp_path / "other")
    here = Settings(home=tmp_path / "here", smtp_password="env-password")
    set_delivery_setting(session, "smtp_password", "other-Pa55", other)
    with pytest.raises(Unsealable):
        unseal(here, json.loads(stored_row(session, "smtp_password"))["sealed"])
    # The environment's password stays in force; the page says the stored one is unreadable.
    assert effective_settings(session, here).smtp_password == "env-password"
    state = delivery_overview(session, here)["secrets"]["smtp_password"]
    assert state.source == "unreadable"
    assert str(tmp_path / "here" / KEY_FILE) in state.detail
    assert "other-Pa55" not in state.detail


def test_a_secret_stored_before_sealing_still_works_until_saved_again(
    session: Session, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path)
    session.add(OrgSetting(key="smtp_password", value={"value": "old-plain"}))
    session.flush()
    assert effective_settings(session, settings).smtp_password == "old-plain"
    set_delivery_setting(session, "smtp_password", "old-plain", settings)
    assert "old-plain" not in stored_row(session, "smtp_password")
    assert effective_settings(session, settings).smtp_password == "old-plain"
