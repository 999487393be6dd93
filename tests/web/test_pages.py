"""The queue, the ticket page and the staff page, as staff see them in the browser."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.web.conftest import BrowserLog, Member, QueueData, screenshot


def _titles(page: Page) -> list[str]:
    return page.locator(".queue-table .title-cell a").all_inner_texts()


def test_queue_lists_tickets_and_filters_them(
    page: Page,
    queue_data: QueueData,
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    sign_in_as(page, queue_data.tech)
    page.goto("/")
    expect(page).to_have_url(f"{page.url.split('/queue')[0]}/queue")
    assert len(_titles(page)) == 5
    screenshot(page, "queue.png")

    page.get_by_text("Mine", exact=True).click()
    expect(page.locator(".queue-table .title-cell a")).to_have_count(2)
    assert "view=mine" in page.url
    assert set(_titles(page)) == {
        "VPN won't connect for Dana (certificate error)",
        "Reception printer offline again",
    }

    page.get_by_text("Unassigned", exact=True).click()
    expect(page.locator(".queue-table .title-cell a")).to_have_count(2)

    page.get_by_text("All", exact=True).click()
    page.get_by_label("Status").select_option("escalated")
    expect(page.locator(".queue-table .title-cell a")).to_have_count(1)
    expect(page.locator(".queue-table")).to_contain_text("Nightly backup failed on FS01")

    page.get_by_label("Status").select_option("any")
    page.get_by_label("Search").fill("printer")
    expect(page.locator(".queue-table .title-cell a")).to_have_count(1)
    page.get_by_label("Search").fill("no such words")
    expect(page.get_by_text("No tickets match these filters.")).to_be_visible()
    assert browser_log.errors == []


def test_queue_filters_work_without_javascript(
    browser_page_no_js: Page, queue_data: QueueData, sign_in_as: Callable[[Page, Member], None]
) -> None:
    page = browser_page_no_js
    sign_in_as(page, queue_data.tech)
    page.goto("/queue")
    page.get_by_text("Mine", exact=True).click()
    page.get_by_role("button", name="Filter").click()
    assert "view=mine" in page.url
    expect(page.locator(".queue-table .title-cell a")).to_have_count(2)


def test_ticket_page_shows_the_ticket_and_its_history(
    page: Page, queue_data: QueueData, sign_in_as: Callable[[Page, Member], None]
) -> None:
    sign_in_as(page, queue_data.senior)
    page.goto("/queue")
    page.get_by_role("link", name="Nightly backup failed on FS01").click()
    ticket_id = queue_data.ticket_ids["backup"]
    expect(page).to_have_url(f"{page.url.split('/tickets')[0]}/tickets/{ticket_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nightly backup failed on FS01")
    facts = page.locator(".ticket-facts")
    expect(facts).to_contain_text("Brightside Legal")
    expect(facts).to_contain_text("Sam Senior")
    expect(page.locator(".badges")).to_contain_text("Escalated")
    expect(page.locator(".badges")).to_contain_text("Critical priority")
    expect(page.locator(".badges")).to_contain_text("L2")
    expect(page.locator(".ticket-body")).to_have_text(
        "Reported by phone.\nClient: Brightside Legal."
    )
    history = page.locator(".timeline")
    expect(history).to_contain_text("Storage target full")
    expect(history).to_contain_text("changed status")


def test_unknown_ticket_or_page_is_a_not_found_page_in_the_layout(
    page: Page, queue_data: QueueData, sign_in_as: Callable[[Page, Member], None]
) -> None:
    sign_in_as(page, queue_data.tech)
    response = page.goto("/tickets/999999")
    assert response is not None
    assert response.status == 404
    expect(page.locator(".error-card")).to_contain_text("no ticket #999999")
    expect(page.locator(".who-name")).to_have_text("Tess Tech")
    response = page.goto("/no-such-page")
    assert response is not None
    assert response.status == 404
    expect(page.locator(".error-card")).to_contain_text("There is no page at this address.")
    expect(page.locator(".who-name")).to_have_text("Tess Tech")


def test_owner_adds_staff_who_can_then_sign_in(
    page: Page,
    queue_data: QueueData,
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    sign_in_as(page, queue_data.owner)
    page.goto("/")
    page.get_by_role("link", name="Staff").click()
    form = page.locator("form[action='/staff']")
    form.get_by_label("Name").fill("Nina New")
    form.get_by_label("E-mail").fill("nina@example.com")
    form.get_by_label("Role").select_option("service_manager")
    form.get_by_label("Level").select_option("L2")
    form.get_by_label("Initial password").fill("a long initial password")
    form.get_by_role("button", name="Add staff member").click()
    expect(page.get_by_role("status")).to_contain_text("Added nina@example.com")
    row = page.locator("tr", has_text="nina@example.com")
    expect(row).to_contain_text("Service manager")
    expect(row).to_contain_text("L2")
    screenshot(page, "staff.png")

    form.get_by_label("Name").fill("Nina Again")
    form.get_by_label("E-mail").fill("nina@example.com")
    form.get_by_label("Initial password").fill("another long password")
    form.get_by_role("button", name="Add staff member").click()
    expect(page.get_by_role("alert")).to_contain_text("already exists")
    expect(form.get_by_label("Name")).to_have_value("Nina Again")

    page.get_by_role("button", name="Log out").click()
    page.get_by_label("E-mail").fill("nina@example.com")
    page.get_by_label("Password").fill("a long initial password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".who-name")).to_have_text("Nina New")
    assert browser_log.errors == []


def test_nav_shows_only_what_the_role_may_open(
    page: Page, queue_data: QueueData, sign_in_as: Callable[[Page, Member], None]
) -> None:
    sign_in_as(page, queue_data.tech)
    page.goto("/queue")
    nav = page.locator(".side-nav")
    expect(nav.get_by_role("link", name="Queue")).to_be_visible()
    expect(nav.get_by_role("link", name="Staff")).to_have_count(0)
    expect(page.locator(".who-meta")).to_contain_text("L1")
