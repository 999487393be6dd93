"""Working alone in the browser: add a client, its contacts and a profile fact, open a
ticket for a contact from the new-ticket form (the runbook suggestion shows as the title is
typed), and e-mail the requester an edited message with the primary contact copied."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.web.conftest import PHONE, BrowserLog, LiveServer, Member, screenshot
from tests.web.test_vpn_scenario import (  # noqa: F401 - fixtures used by name
    Mailbox,
    mailbox,
    starter,
)

REQUESTER = "front@harbour.example"
PRIMARY = "dana@harbour.example"
WIDE = {"width": 1400, "height": 900}
EDITED = "Hello Sam,\n\nWe are on it: the VPN certificate is being renewed now.\n\nPriya"


def _overflow(page: Page) -> int:
    """How far the page is wider than the window (0 when nothing sticks out)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def add_contact(page: Page, name: str, email: str, phone: str, *flags: str) -> None:
    form = page.locator("#add-contact")
    if not form.is_visible():
        page.get_by_text("Add a contact").click()
    form.get_by_label("Name").fill(name)
    form.get_by_label("E-mail").fill(email)
    form.get_by_label("Phone").fill(phone)
    for flag in flags:
        form.get_by_label(flag).check()
    form.get_by_role("button", name="Add contact").click()
    expect(page.locator("#contacts")).to_contain_text(name)


def test_client_contact_fact_new_ticket_and_an_edited_message_to_the_requester(
    page: Page,
    live: LiveServer,
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    starter: None,  # noqa: F811
    mailbox: Mailbox,  # noqa: F811
    browser_log: BrowserLog,
) -> None:
    manager = make_staff("Priya Manager", role="service_manager", level="L2")
    sign_in_as(page, manager)
    page.set_viewport_size(WIDE)

    # A client, added from the Clients page.
    page.goto("/clients")
    add = page.locator("#add-client")
    add.get_by_label("Name").fill("Harbour Dental")
    add.get_by_label("Tier").select_option("premium")
    add.get_by_label("Endpoints").fill("14")
    add.get_by_role("button", name="Add client").click()
    expect(page).to_have_url(re.compile(r"/clients/\d+"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbour Dental")

    # Its contacts: the first is the primary one; the requester-to-be is a VIP.
    add_contact(page, "Dana Whitfield", PRIMARY, "0161 555 0101", "Authorised to approve spend")
    add_contact(page, "Sam Reception", REQUESTER, "0161 555 0199", "VIP")
    dana = page.locator(".contact", has_text="Dana Whitfield")
    expect(dana.locator(".badge")).to_have_text(["Primary", "Approves spend"])
    expect(page.locator(".contact", has_text="Sam Reception").locator(".badge")).to_have_text(
        ["VIP"]
    )

    # A profile fact, typed on the page, says who typed it.
    facts = page.locator("#profile")
    facts.get_by_label("Fact").fill("vpn")
    facts.get_by_label("Value").fill("FortiClient")
    facts.get_by_role("button", name="Save fact").click()
    expect(facts.locator("#fact-vpn")).to_contain_text("FortiClient")
    expect(facts.locator("#fact-vpn")).to_contain_text("Typed by Priya Manager")
    client_url = page.url.split("?")[0]

    page.goto("/clients")
    expect(page.locator(".clients-table")).to_contain_text("Harbour Dental")
    screenshot(page, "clients.png")
    page.set_viewport_size(PHONE)
    assert _overflow(page) <= 0
    page.set_viewport_size(WIDE)

    # "n" in the queue opens the new-ticket form.
    page.goto("/queue")
    expect(page.get_by_role("button", name="New ticket")).to_be_visible()
    page.keyboard.press("n")
    expect(page).to_have_url(re.compile(r"/tickets/new$"))
    form = page.locator("#new-ticket-form")
    form.get_by_label("Client").select_option(label="Harbour Dental")
    form.get_by_label("Requester").select_option(label="Sam Reception · VIP")
    form.get_by_label("Title").press_sequentially("VPN certificate expired for reception")
    expect(page.locator("#suggestion")).to_contain_text("VPN")
    form.get_by_label("Details").fill("FortiClient says the certificate has expired.")
    form.get_by_label("Priority").select_option("high")
    screenshot(page, "new-ticket.png")
    page.set_viewport_size(PHONE)
    assert _overflow(page) <= 0
    page.set_viewport_size(WIDE)
    form.get_by_role("button", name="Open ticket").click()
    expect(page).to_have_url(re.compile(r"/tickets/\d+$"))
    expect(page.locator("#ticket-requester")).to_contain_text("Sam Reception")
    expect(page.locator("#ticket-requester")).to_contain_text("0161 555 0199")

    # The message goes to the requester; the primary contact may be copied; the body is
    # edited before sending, and what was sent is what the history shows.
    composer = page.locator("#composer")
    expect(composer.locator("#message-to")).to_contain_text(f"Sam Reception <{REQUESTER}>")
    expect(composer.locator("#message-to")).to_contain_text("(requester)")
    composer.get_by_label(re.compile("Copy the primary contact, Dana Whitfield")).check()
    composer.locator("textarea[name=body]").fill(EDITED)
    composer.get_by_role("button", name="Send e-mail").click()
    expect(composer.get_by_role("status")).to_contain_text(
        f"Sent to {REQUESTER} (copy to {PRIMARY})"
    )
    [sent] = mailbox.messages
    assert (sent["To"], sent["Cc"]) == (REQUESTER, PRIMARY)
    payload = sent.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.decode().replace("\r\n", "\n") == EDITED + "\n"
    history = page.locator("#history")
    expect(history).to_contain_text("[edited before sending]")
    expect(history).to_contain_text("the VPN certificate is being renewed now")

    # The client's page lists the ticket with its requester.
    page.goto(client_url)
    expect(page.locator("#tickets")).to_contain_text("Sam Reception")
    screenshot(page, "client.png")
    page.set_viewport_size(PHONE)
    assert _overflow(page) <= 0
    assert browser_log.errors == []
