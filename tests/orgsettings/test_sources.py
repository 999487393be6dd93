"""Where each setting in force comes from: saved in Franchise, then environment, then default."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from franchise.orgsettings.secrets import effective_settings, set_delivery_setting
from franchise.orgsettings.service import set_setting
from franchise.orgsettings.sources import SettingSource, setting_sources
from franchise.settings import Settings


def by_key(session: Session, settings: Settings) -> dict[str, SettingSource]:
    return {s.key: s for s in setting_sources(session, settings)}


def test_each_setting_says_saved_environment_or_default(session: Session, tmp_path: Path) -> None:
    env = Settings(home=tmp_path, smtp_host="env.example.com", smtp_password="env-Pa55word")
    shown = by_key(session, env)
    assert (shown["smtp_host"].value, shown["smtp_host"].source) == (
        "env.example.com",
        "environment",
    )
    assert shown["smtp_host"].env_var == "FRANCHISE_SMTP_HOST"
    assert (shown["smtp_port"].value, shown["smtp_port"].source) == ("587", "default")
    assert (shown["smtp_password"].value, shown["smtp_password"].source) == ("set", "environment")
    assert (shown["notify_urls"].value, shown["notify_urls"].source) == ("not set", "default")
    assert (shown["timezone"].value, shown["timezone"].source) == ("UTC", "default")
    assert shown["timezone"].env_var is None  # organisation settings have no variable
    assert shown["business_hours"].value == "mon-fri 08:00-18:00"

    set_delivery_setting(session, "smtp_host", "db.example.com", env)
    set_delivery_setting(session, "smtp_port", "2525", env)
    set_setting(session, "timezone", "Europe/Berlin")
    set_setting(session, "auto_send_resolved_message", "on")
    shown = by_key(session, env)
    assert (shown["smtp_host"].value, shown["smtp_host"].source) == ("db.example.com", "saved")
    assert (shown["smtp_port"].value, shown["smtp_port"].source) == ("2525", "saved")
    assert (shown["timezone"].value, shown["timezone"].source) == ("Europe/Berlin", "saved")
    assert shown["auto_send_resolved_message"].value == "on"
    assert shown["smtp_host"].source_text == "saved in Franchise"
    # The page and the sending code agree on the value in force.
    assert effective_settings(session, env).smtp_host == shown["smtp_host"].value

    set_delivery_setting(session, "smtp_host", "", env)  # cleared: the environment's again
    assert by_key(session, env)["smtp_host"].source == "environment"


def test_secrets_are_never_shown_only_whether_set(session: Session, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    set_delivery_setting(session, "notify_urls", "tgram://123:SECRETtoken/42", settings)
    set_delivery_setting(session, "smtp_password", "Hidden-Pa55", settings)
    rows = setting_sources(session, settings)
    text = repr([r.to_dict() for r in rows])
    assert "SECRETtoken" not in text and "Hidden-Pa55" not in text
    shown = {r.key: r for r in rows}
    assert (shown["notify_urls"].value, shown["notify_urls"].source) == ("set", "saved")
    assert (shown["smtp_password"].value, shown["smtp_password"].source) == ("set", "saved")


def test_a_saved_secret_this_server_cannot_read_falls_back_and_says_why(
    session: Session, tmp_path: Path
) -> None:
    other = Settings(home=tmp_path / "other")
    here = Settings(home=tmp_path / "here", smtp_password="env-Pa55word")
    set_delivery_setting(session, "smtp_password", "other-Pa55", other)
    shown = by_key(session, here)["smtp_password"]
    assert (shown.value, shown.source) == ("set", "environment")
    assert shown.note.startswith("the saved value cannot be read")
    assert "other-Pa55" not in shown.note
