"""Internal notes with files on the ticket page (added, refused, downloaded) and a queue
whose search, filters, sort and pages all live in the URL."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from franchise.accounts.service import get_staff
from franchise.db import Database
from franchise.tickets import lifecycle
from franchise.tickets.service import create_ticket, get_ticket
from tests.web.conftest import BrowserLog, Member, QueueData, screenshot

FITS = "document.documentElement.scrollWidth <= window.innerWidth"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_note_with_an_attachment_is_added_refused_when_bad_and_downloaded(
    page: Page,
    queue_data: QueueData,
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
    tmp_path: Path,
) -> None:
    shot = tmp_path / "error-dialog.png"
    shot.write_bytes(PNG)
    program = tmp_path / "fix.exe"
    program.write_bytes(b"MZ\x90\x00\x03\x00")
    sign_in_as(page, queue_data.tech)
    # The first ticket page builds the runbook suggestion index: slow on a busy machine.
    page.set_default_timeout(20_000)
    page.goto(f"/tickets/{queue_data.ticket_ids['printer']}")
    notes = page.locator("#notes")

    # A program is refused by its content: nothing is stored and the typed note stays.
    notes.get_by_label("Note", exact=False).first.fill("Spooler crashed; client sent a fix")
    notes.get_by_label("Attach files").set_input_files([str(shot), str(program)])
    notes.get_by_role("button", name="Add note").click()
    alert = page.locator("#notes").get_by_role("alert")
    expect(alert).to_contain_text("attachment 'fix.exe' is not a file type notes accept")
    expect(page.locator("#note-text")).to_have_value("Spooler crashed; client sent a fix")
    expect(page.locator("#notes .tp-files")).to_have_count(0)

    page.locator("#note-text").fill("Spooler crashed; restarted it. Screenshot of the error.")
    page.locator("#notes").get_by_label("Minutes worked").fill("25")
    page.locator("#notes").get_by_label("Attach files").set_input_files(str(shot))
    page.locator("#notes").get_by_role("button", name="Add note").click()
    notes = page.locator("#notes")
    expect(notes.locator(".tp-note-list")).to_contain_text("Spooler crashed; restarted it.")
    expect(notes.locator("h2")).to_contain_text("25 min worked")
    expect(page.locator("#facts")).to_contain_text("25 min")
    link = notes.get_by_role("link", name="error-dialog.png")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "error-dialog.png"
    assert Path(download.path()).read_bytes() == PNG
    response = page.request.get(link.get_attribute("href") or "")
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "ticket-notes.png")

    # The category changes by hand with a reason, kept in the history.
    panel = page.locator("#runbook")
    panel.get_by_text("Change the category").click()
    panel.get_by_label("Category").select_option("endpoint-offline")
    panel.locator("details.tp-category-change").get_by_label("Reason").fill(
        "The printer's network card died"
    )
    panel.get_by_role("button", name="Change category").click()
    expect(page.locator("#runbook")).to_contain_text("Category: Endpoint offline (set by hand")
    expect(page.locator("#history")).to_contain_text(
        "changed category from printer to endpoint-offline"
    )
    expect(page.locator("#history")).to_contain_text("The printer's network card died")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(FITS)
    page.set_viewport_size({"width": 1400, "height": 900})
    assert browser_log.errors == []


def test_queue_search_filters_sort_and_pages_live_in_the_url(
    page: Page,
    db: Database,
    queue_data: QueueData,
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    start = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    with db.unit_of_work() as session:
        for i in range(130):
            create_ticket(
                session,
                title=f"Mailbox quota warning {i:03d}",
                client="Northwind Logistics",
                created_at=start + timedelta(minutes=i),
            )
    rows = page.locator(".queue-table tbody tr")
    sign_in_as(page, queue_data.tech)
    page.set_default_timeout(15_000)

    # A bookmarked view: a client's name finds its tickets, newest first, 100 to a page.
    page.goto("/queue?q=northwind&status=any")
    expect(rows).to_have_count(100)
    page.get_by_role("link", name="Next 100").click()
    expect(rows).to_have_count(32)
    assert "cursor=" in page.url and "q=northwind" in page.url
    expect(page.get_by_role("link", name="Next 100")).to_have_count(0)
    expect(rows.last).to_contain_text("Mailbox quota warning 000")
    page.get_by_role("link", name="First page").click()
    # The fixture's two Northwind tickets were opened today, after the quota warnings.
    expect(rows.nth(2)).to_contain_text("Mailbox quota warning 129")

    # Sorting by the Opened column flips to oldest first; the sort is in the URL.
    page.get_by_role("link", name="Opened").click()
    expect(rows.first).to_contain_text("Mailbox quota warning 000")
    assert "sort=created" in page.url

    # Priority sorts highest first, a second click lowest first; title A to Z first. The
    # sorted column's header says which way (aria-sort) and the next page keeps the order.
    page.goto("/queue?status=any")
    sorted_head = page.locator("th[aria-sort]")
    page.get_by_role("link", name="Priority").click()
    expect(sorted_head).to_have_attribute("aria-sort", "descending")
    expect(sorted_head).to_contain_text("Priority")
    expect(rows.first).to_contain_text("Nightly backup failed on FS01")
    assert "sort=-priority" in page.url
    page.get_by_role("link", name="Priority").click()
    expect(sorted_head).to_have_attribute("aria-sort", "ascending")
    expect(rows.first).to_contain_text("Reception printer offline again")
    page.get_by_role("link", name="Ticket", exact=True).click()
    expect(sorted_head).to_have_attribute("aria-sort", "ascending")
    expect(rows.first).to_contain_text("C: drive under 5% on RDS02")
    page.get_by_role("link", name="Next 100").click()
    assert "sort=title" in page.url and "cursor=" in page.url
    expect(rows.last).to_contain_text("VPN won't connect for Dana")

    # Filters change the results in place and the address with them.
    page.goto("/queue")
    page.get_by_label("Priority").select_option("high")
    expect(rows).to_have_count(2)
    expect(page).to_have_url(re.compile(r"priority=high"))
    page.get_by_label("Client").select_option(label="Acme Dental")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("VPN won't connect for Dana")
    page.reload()
    expect(rows).to_have_count(1)

    # "/" puts the cursor in the search box.
    page.locator("h1").click()
    page.keyboard.press("/")
    expect(page.locator("#queue-search")).to_be_focused()
    page.keyboard.type("#" + str(queue_data.ticket_ids["backup"]))
    page.get_by_label("Priority").select_option("")
    page.get_by_label("Client").select_option("")
    page.get_by_label("Status").select_option("any")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Nightly backup failed on FS01")

    # On a phone the view tabs wrap inside the screen instead of being cut off.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/queue")
    assert page.evaluate(FITS)
    for label in page.locator(".segmented label").all():
        box = label.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    # The table's headers are not shown on a phone: the order is chosen from a list instead.
    order = page.get_by_label("Sort by")
    expect(order).to_be_visible()
    order.select_option(label="Oldest first")
    expect(page).to_have_url(re.compile(r"sort=created"))
    expect(page.locator(".queue-table tbody tr").first).to_contain_text("Mailbox quota warning 000")
    page.set_viewport_size({"width": 1400, "height": 900})
    expect(order).to_be_hidden()
    assert browser_log.errors == []


def test_a_number_search_finds_a_resolved_ticket_the_filters_hide(
    page: Page,
    db: Database,
    queue_data: QueueData,
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    ticket_id = queue_data.ticket_ids["mfa"]
    with db.unit_of_work() as session:
        staff = get_staff(session, queue_data.tech.id)
        lifecycle.resolve_ticket(session, get_ticket(session, ticket_id), by=staff)
    sign_in_as(page, queue_data.tech)
    page.goto("/queue")
    rows = page.locator(".queue-table tbody tr")
    expect(rows).to_have_count(4)
    # The default view shows open tickets: the page says the resolved one is hidden, and why.
    page.get_by_label("Search").fill(f"#{ticket_id}")
    hint = page.locator(".queue-hint")
    expect(hint).to_contain_text(
        f"#{ticket_id} “New phone, MFA prompts not arriving” is resolved, "
        "so the status filter hides it."
    )
    expect(rows).to_have_count(0)
    expect(page.get_by_text("No tickets match these filters")).to_have_count(0)
    expect(hint.get_by_role("link", name=f"Open #{ticket_id}")).to_have_attribute(
        "href", f"/tickets/{ticket_id}"
    )
    hint.get_by_role("link", name="show it in the list").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("New phone, MFA prompts not arriving")
    expect(rows.first).to_contain_text("Resolved")
    expect(page.get_by_label("Status")).to_have_value("any")
    expect(hint).to_have_count(0)
    # A view that leaves it out says so too; a ticket number that does not exist says nothing.
    page.goto(f"/queue?view=mine&status=any&q=%23{ticket_id}")
    expect(hint).to_contain_text("is resolved, but these filters hide it")
    page.goto("/queue?q=%2399999")
    expect(hint).to_have_count(0)
    expect(page.get_by_text("No tickets match these filters")).to_be_visible()
    assert browser_log.errors == []


def test_the_queue_filters_keep_their_shape_on_a_phone_and_a_wide_screen(
    page: Page, queue_data: QueueData, sign_in_as: Callable[[Page, Member], None]
) -> None:
    sign_in_as(page, queue_data.tech)
    for width in (390, 1400):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/queue")
        # Every view tab sits inside the box's 1px border, which has the same small corners
        # all round (not pico's pill for a role=search form's first child).
        tabs = page.locator(".segmented")
        outer = tabs.bounding_box()
        assert outer is not None
        for label in tabs.locator("label").all():
            box = label.bounding_box()
            assert box is not None
            assert outer["x"] + 1 <= box["x"]
            assert box["x"] + box["width"] <= outer["x"] + outer["width"] - 1
        corners = tabs.evaluate(
            """e => { const s = getComputedStyle(e);
                return [s.borderTopLeftRadius, s.borderTopRightRadius,
                        s.borderBottomLeftRadius, s.borderBottomRightRadius]; }"""
        )
        assert len(set(corners)) == 1 and float(corners[0].removesuffix("px")) < 10, corners
        # The status list is wide enough for what it says.
        status = page.get_by_label("Status")
        fits = status.evaluate(
            """e => {
                const probe = document.createElement("span");
                probe.textContent = e.options[e.selectedIndex].text;
                probe.style.font = getComputedStyle(e).font;
                document.body.append(probe);
                const text = probe.getBoundingClientRect().width;
                probe.remove();
                const s = getComputedStyle(e);
                return text + parseFloat(s.paddingLeft) + parseFloat(s.paddingRight)
                    <= e.clientWidth + 1;
            }"""
        )
        assert fits, width
