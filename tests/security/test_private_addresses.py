"""Finding 13: notification URLs may not reach internal addresses unless allowed."""

from __future__ import annotations

import pytest

from franchise.notify.addresses import private_target
from franchise.notify.service import notify_owner
from franchise.settings import Settings
from franchise.web.settings_page import internal_host_note
from tests.notify.receiver import receiver


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("json://127.0.0.1:8080/hook", "json:// points at the internal address 127.0.0.1"),
        ("jsons://10.1.2.3/hook", "jsons:// points at the internal address 10.1.2.3"),
        ("json://169.254.169.254/latest", "json:// points at the internal address 169.254.169.254"),
        ("json://[::1]:80/x", "json:// points at the internal address ::1"),
        (
            "json://[::ffff:192.168.0.1]/x",
            "json:// points at the internal address ::ffff:192.168.0.1",
        ),
        ("ntfy://localhost/topic", "ntfy:// points at the internal address 127.0.0.1"),
        ("mailto://user:pw@192.168.1.5", "mailto:// points at the internal address 192.168.1.5"),
        ("json://93.184.215.14/hook", None),
        ("tgram://123456:AAAbot/987654", None),  # goes to Telegram; the "host" is a token
    ],
)
def test_internal_targets_are_recognised(url: str, reason: str | None) -> None:
    def resolver(host: str) -> list[str]:
        return {"localhost": ["127.0.0.1"]}.get(host, ["93.184.215.14"])

    assert private_target(url, resolver) == reason


def test_a_name_that_resolves_inside_is_caught() -> None:
    assert private_target("json://hooks.corp.example/x", lambda _h: ["10.0.0.7"]) == (
        "json:// points at the internal address 10.0.0.7"
    )


def test_a_loopback_receiver_is_refused_by_default_and_reached_when_allowed() -> None:
    with receiver() as rx:
        refused = notify_owner(
            Settings(notify_urls=rx.url("/hook"), notify_allow_private=False), title="t", body="b"
        )
        assert not refused.sent
        assert refused.error == (
            "URL 1 refused: json:// points at the internal address 127.0.0.1 "
            "(set FRANCHISE_NOTIFY_ALLOW_PRIVATE=true to allow)"
        )
        assert rx.posts == []
        allowed = notify_owner(
            Settings(notify_urls=rx.url("/hook"), notify_allow_private=True), title="t", body="b"
        )
        assert allowed.sent
        assert len(rx.posts) == 1


def test_the_default_refuses() -> None:
    assert Settings.model_fields["notify_allow_private"].default is False


@pytest.mark.parametrize(
    ("host", "said"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("10.0.0.25", True),
        ("smtp.example.com", False),
        ("", False),
    ],
)
def test_the_settings_page_says_when_the_smtp_host_is_internal(host: str, said: bool) -> None:
    assert bool(internal_host_note(host)) is said
