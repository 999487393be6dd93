"""Finding 14: /docs loads nothing from outside, under a CSP; signed-in pages are not cached."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from playwright.sync_api import Page, Request, expect

from tests.web.conftest import BrowserLog, LiveServer, Member, QueueData


def test_docs_load_only_from_this_server_under_a_csp(
    page: Page, live: LiveServer, browser_log: BrowserLog
) -> None:
    requested: list[str] = []

    def on_request(request: Request) -> None:
        requested.append(request.url)

    page.on("request", on_request)
    response = page.goto("/docs")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "cdn" not in response.text().lower()
    expect(page.get_by_role("heading", name="Franchise")).to_be_visible()
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert requested
    assert all(url.startswith(live.url) for url in requested), requested
    assert browser_log.errors == []


def test_signed_in_pages_are_not_stored_by_browsers_or_proxies(
    live: LiveServer,
    queue_data: QueueData,
    session_cookie: Callable[[Member], dict[str, str]],
) -> None:
    ticket = queue_data.ticket_ids["vpn"]
    with httpx.Client(
        base_url=live.url, cookies=session_cookie(queue_data.tech), timeout=60
    ) as client:
        for path in ("/queue", f"/tickets/{ticket}", "/approvals"):
            answer = client.get(path)
            assert answer.status_code == 200, path
            assert answer.headers["cache-control"] == "no-store", path
    with httpx.Client(base_url=live.url) as anonymous:
        assert "no-store" not in anonymous.get("/login").headers.get("cache-control", "")
