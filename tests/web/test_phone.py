"""A technician on a phone (390x844) can sign in and work the queue without sideways scrolling."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.web.conftest import BrowserLog, Member, QueueData, screenshot

FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def test_login_fits_a_phone(phone_page: Page) -> None:
    phone_page.goto("/login")
    expect(phone_page.get_by_role("button", name="Sign in")).to_be_visible()
    assert phone_page.evaluate(FITS)


def test_queue_and_ticket_fit_a_phone(
    phone_page: Page,
    queue_data: QueueData,
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    page = phone_page
    sign_in_as(page, queue_data.tech)
    page.goto("/queue")
    expect(page.locator(".queue-table .title-cell a")).to_have_count(5)
    assert page.evaluate(FITS)
    screenshot(page, "queue-phone.png")
    # The nav folds behind a Menu button on small screens.
    expect(page.get_by_role("link", name="Queue", exact=True)).to_be_hidden()
    page.get_by_text("Menu").click()
    expect(page.get_by_role("link", name="Queue", exact=True)).to_be_visible()
    assert page.evaluate(FITS)
    page.get_by_role("link", name="Nightly backup failed on FS01").click()
    expect(page.locator(".ticket-facts")).to_contain_text("Brightside Legal")
    assert page.evaluate(FITS)
    assert browser_log.errors == []
