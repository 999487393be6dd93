"""`franchise serve --port N`: the links the server writes (webhook URLs on the Integrations
page, buttons in notifications) carry the port it serves on, not the default one."""

from __future__ import annotations

import pytest

from franchise.server import serving_at
from franchise.settings import Settings


def test_the_served_address_is_what_links_start_with(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRANCHISE_PUBLIC_URL", raising=False)
    environ: dict[str, str] = {}
    serving_at(environ, "127.0.0.1", 8799)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert Settings().base_url == "http://127.0.0.1:8799"


def test_a_public_url_still_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRANCHISE_PUBLIC_URL", "https://franchise.example.com/")
    environ: dict[str, str] = {}
    serving_at(environ, "0.0.0.0", 8799)  # noqa: S104 - an address to bind, as a server does
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert Settings().base_url == "https://franchise.example.com"
