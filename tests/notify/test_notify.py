from __future__ import annotations

import socket

from franchise.notify.service import notify_owner, notify_urls
from franchise.settings import Settings
from tests.notify.receiver import receiver


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_it_posts_title_and_body_to_a_json_url() -> None:
    with receiver() as rx:
        delivery = notify_owner(
            Settings(notify_urls=rx.url("/hook")), title="Ticket #4", body="Ana asks: VPN?"
        )
    assert delivery.sent, delivery.error
    assert delivery.targets == 1
    assert rx.paths == ["/hook"]
    assert rx.posts[0]["title"] == "Ticket #4"
    assert rx.posts[0]["message"] == "Ana asks: VPN?"


def test_it_sends_to_every_url_separated_by_commas_or_spaces() -> None:
    with receiver() as one, receiver() as two:
        settings = Settings(notify_urls=f"{one.url('/a')}, {two.url('/b')}")
        assert len(notify_urls(settings)) == 2
        delivery = notify_owner(settings, title="t", body="b")
    assert delivery.sent
    assert len(one.posts) == len(two.posts) == 1


def test_it_reports_an_unset_configuration_without_raising() -> None:
    delivery = notify_owner(Settings(notify_urls=""), title="t", body="b")
    assert not delivery.sent
    assert "FRANCHISE_NOTIFY_URLS" in (delivery.error or "")


def test_it_reports_a_refused_notification_without_raising() -> None:
    with receiver() as rx:
        rx.status = 500
        delivery = notify_owner(Settings(notify_urls=rx.url()), title="t", body="b")
    assert len(rx.posts) == 1
    assert not delivery.sent
    assert delivery.error


def test_it_reports_an_unreachable_server_without_raising() -> None:
    url = f"json://127.0.0.1:{closed_port()}/x"
    delivery = notify_owner(Settings(notify_urls=url), title="t", body="b")
    assert not delivery.sent
    assert delivery.error


def test_an_unknown_url_is_named_by_scheme_never_in_full() -> None:
    delivery = notify_owner(
        Settings(notify_urls="nosuchscheme://secret-token@example.com"), title="t", body="b"
    )
    assert not delivery.sent
    assert "nosuchscheme" in (delivery.error or "")
    assert "secret-token" not in (delivery.error or "")
