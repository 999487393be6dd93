"""My notifications in Chromium: a hand-off reaches people who set up no e-mail or chat at
all. The L2 on duty sees the count on the navigation, opens the approval from their list and
decides it; the technician who asked sees the decision the same way, on a phone."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Browser, Locator, Page, expect

from franchise.accounts.service import get_staff
from franchise.approvals.service import list_requests
from franchise.ask.service import ask_owner
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.duty.service import set_shift
from franchise.flows.escalations import escalate
from franchise.flows.runs import begin_run
from franchise.outbox.models import OutboxItem
from franchise.runbooks import service as runbooks
from franchise.tickets.service import create_ticket, get_ticket
from tests.web.conftest import PHONE, BrowserLog, LiveServer, Member, screenshot
from tests.web.test_handoffs import DOCK

FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def _nav_link(page: Page) -> Locator:
    return page.locator(".side-nav a[href='/me']")


def test_an_approval_and_its_decision_reach_people_with_no_channel(
    browser: Browser,
    page: Page,
    live: LiveServer,
    db: Database,
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    tech = make_staff("Tess Tech")
    senior = make_staff("Sam Senior", level="L2")
    with db.unit_of_work() as session:
        initialise(session)
        runbooks.save_runbook(session, DOCK, file="dock.yaml")
        set_shift(
            session,
            level="L2",
            staff=get_staff(session, senior.id),
            days="daily",
            hours="00:00-00:00",
        )
        ticket = create_ticket(session, title="Dock dead at reception", category="endpoint-offline")
        begin_run(
            session,
            runbooks.get_runbook(session, "dock-replacement"),
            ticket=ticket,
            actor=get_staff(session, tech.id),
        )
        (request,) = list_requests(session, ticket=ticket)
        ticket_id, request_id = ticket.id, request.id
        # Nobody has e-mail or chat: nothing goes out, and the app is where they hear.
        assert session.query(OutboxItem).count() == 0

    sign_in_as(page, senior)
    page.goto(f"{live.url}/queue")
    link = _nav_link(page)
    expect(link.locator(".nav-count")).to_have_text("1")
    expect(link.locator(".nav-count")).to_have_attribute("aria-label", "1 unread")
    link.click()
    item = page.locator("#notices .notice-item").first
    expect(item).to_contain_text(f"Approval #{request_id} waits for you")
    expect(item).to_contain_text("Tess Tech asks to: Order a replacement USB-C dock")
    expect(item).to_contain_text("Cost: $240.00")
    expect(item).to_contain_text(f"Ticket: #{ticket_id} Dock dead at reception")
    expect(item.locator(".badge")).to_have_text("New")
    screenshot(page, "my-notifications.png")
    item.get_by_role("button", name="Open").click()
    expect(page).to_have_url(f"{live.url}/approvals#approval-{request_id}")
    # Read once opened: the count is gone from every page.
    expect(_nav_link(page).locator(".nav-count")).to_have_count(0)
    card = page.locator(f"#approval-{request_id}")
    card.get_by_label("Reason").fill("Standard dock, in budget")
    card.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("decided")

    # Tess hears of it on her phone, without e-mail or chat.
    context = browser.new_context(
        base_url=live.url, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    phone = context.new_page()
    sign_in_as(phone, tech)
    phone.goto(f"{live.url}/queue")
    # The links are folded away on a phone: the menu button carries the count.
    expect(phone.locator(".nav-toggle-label .nav-count")).to_have_text("1")
    phone.get_by_text("Menu").click()
    phone_link = _nav_link(phone)
    expect(phone_link.locator(".nav-count")).to_have_text("1")
    phone_link.click()
    told = phone.locator("#notices .notice-item").first
    expect(told).to_contain_text(f"Approval #{request_id} approved")
    expect(told).to_contain_text("Sam Senior approved your request: Order a replacement")
    expect(told).to_contain_text("Reason: Standard dock, in budget")
    assert phone.evaluate(FITS), "My notifications scrolls sideways at 390 px"
    screenshot(phone, "my-notifications-phone.png")
    told.get_by_role("button", name="Open").click()
    expect(phone).to_have_url(f"{live.url}/tickets/{ticket_id}")
    expect(phone.locator("#runner").get_by_role("button", name="Ordered")).to_be_enabled()
    context.close()
    assert browser_log.errors == []


def test_opening_the_ticket_reads_its_notice_and_mark_all_reads_the_rest(
    page: Page,
    live: LiveServer,
    db: Database,
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    tech = make_staff("Tess Tech")
    senior = make_staff("Sam Senior", level="L2")
    with db.unit_of_work() as session:
        initialise(session)
        sam = get_staff(session, senior.id)
        set_shift(session, level="L2", staff=sam, days="daily", hours="00:00-00:00")
        ids = []
        for title in ("VPN down at HQ", "Backup missing for Acme", "Disk full on FS01"):
            ticket = create_ticket(session, title=title)
            escalate(session, ticket, to="L2", by=get_staff(session, tech.id), note="Over to L2.")
            ids.append(ticket.id)

    sign_in_as(page, senior)
    page.goto(f"{live.url}/queue")
    expect(_nav_link(page).locator(".nav-count")).to_have_text("3")
    # Opened from the queue, not from the list: the notice about it is read all the same.
    page.goto(f"{live.url}/tickets/{ids[0]}")
    expect(_nav_link(page).locator(".nav-count")).to_have_text("2")
    _nav_link(page).click()
    notices = page.locator("#notices")
    expect(notices.locator(".notice-unread")).to_have_count(2)
    # The handover note is in the notice: what was found and tried comes first.
    expect(notices.locator(".notice-item").first).to_contain_text("Handover note: Over to L2.")
    expect(notices.locator(".notice-item").first).to_contain_text("Priority: Normal")
    expect(notices.locator("#notices-unread")).to_have_text("2 unread")
    notices.get_by_role("button", name="Mark all as read").click()
    expect(page.locator("#notices .notice-unread")).to_have_count(0)
    expect(page.locator("#notices-unread")).to_have_text("0 unread")
    expect(_nav_link(page).locator(".nav-count")).to_have_count(0)
    # Read notices stay listed, newest first.
    expect(page.locator("#notices .notice-title")).to_have_text(
        [f"Ticket #{i} escalated to you" for i in reversed(ids)]
    )
    with db.unit_of_work() as session:
        assert get_ticket(session, ids[2]).assignee_id == senior.id
    assert browser_log.errors == []


def test_the_owner_answers_on_the_dashboard_and_a_second_tab_is_told_it_was_answered(
    browser: Browser,
    page: Page,
    live: LiveServer,
    db: Database,
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    tech = make_staff("Tess Tech")
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    with db.unit_of_work() as session:
        initialise(session)
        ticket = create_ticket(session, title="Client wants a discount")
        asked = ask_owner(
            session,
            ticket=ticket,
            by=get_staff(session, tech.id),
            reason="other",
            question="Can we give them 10% off their renewal?",
            settings=live.app.state.settings,
        )
        assert asked.outcome == "interruption"
        ticket_id, ask_id = ticket.id, asked.contact_id

    sign_in_as(page, owner)
    page.goto(f"{live.url}/dashboard")
    other = browser.new_context(base_url=live.url).new_page()
    sign_in_as(other, owner)
    other.goto(f"{live.url}/dashboard")

    item = page.locator(f"#ask-{ask_id}")
    item.get_by_label("Your answer").fill("Yes, 10% for a two-year term.")
    item.get_by_role("button", name="Send answer").click()
    expect(page.locator("#ask-done")).to_have_text(
        f"Answer sent: Tess Tech sees it on ticket #{ticket_id} and in their notifications."
    )
    expect(page.locator(f"#ask-{ask_id}")).to_have_count(0)

    # The same ask answered again from a tab opened before: said so, not silently dropped.
    stale = other.locator(f"#ask-{ask_id}")
    stale.get_by_label("Your answer").fill("No discount.")
    stale.get_by_role("button", name="Send answer").click()
    expect(other.locator("#asks").get_by_role("alert")).to_contain_text(
        f"Ask #{ask_id} was already answered"
    )
    other.context.close()

    sign_in_as(page, tech)
    page.goto(f"{live.url}/me")
    told = page.locator("#notices .notice-item").first
    expect(told).to_contain_text(f"The owner answered your question (ask #{ask_id})")
    expect(told).to_contain_text("Yes, 10% for a two-year term.")
    assert browser_log.errors == []
