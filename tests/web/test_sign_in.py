"""Signing in and out through the browser, and what anonymous visitors get."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.web.conftest import BrowserLog, Member, screenshot


def test_sign_in_and_out(
    page: Page, make_staff: Callable[..., Member], browser_log: BrowserLog
) -> None:
    tess = make_staff("Tess Tech")
    page.goto("/login")
    screenshot(page, "login.png")
    page.get_by_label("E-mail").fill(tess.email)
    page.get_by_label("Password").fill(tess.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{page.url.split('/queue')[0]}/queue")
    expect(page.locator(".who-name")).to_have_text("Tess Tech")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Sign in to Franchise")).to_be_visible()
    page.goto("/queue")
    assert "/login?next=%2Fqueue" in page.url
    assert browser_log.errors == []


def test_wrong_password_shows_an_error(page: Page, make_staff: Callable[..., Member]) -> None:
    tess = make_staff("Tess Tech")
    page.goto("/login")
    page.get_by_label("E-mail").fill(tess.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    expect(page.get_by_label("E-mail")).to_have_value(tess.email)
    assert not any(c["name"] == "franchise_session" for c in page.context.cookies())
