"""Hand-offs in Chromium: an approval reaches the L2 on duty on their own channel (a
loopback Teams webhook), is decided in the inbox or through the signed link in the card,
and the L1's runner unlocks; an escalation assigns the L2 on duty and tells them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from franchise.accounts.service import get_staff
from franchise.approvals.service import list_requests
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.duty.service import set_shift
from franchise.flows.runs import begin_run, record_answer
from franchise.orgsettings.secrets import set_delivery_setting
from franchise.people.service import set_channel
from franchise.runbooks import service as runbooks
from franchise.tickets.service import create_ticket, get_ticket
from tests.notify.receiver import Receiver, receiver
from tests.web.conftest import BrowserLog, LiveServer, Member

DOCK = """\
format: 2
key: dock-replacement
title: Replace a failed docking station
category: endpoint-offline
status: validated
fallback: {to: L2, text: Attach the dock model and serial.}
start: order
steps:
  order:
    kind: action
    text: Order a replacement USB-C dock (Dell WD19S) for the user.
    estimate: {minutes: 15, cost: 240, impact: none, kind: hardware-purchase}
    options: {"Ordered": fitted}
  fitted:
    kind: check
    text: Does the laptop charge and show both monitors on the new dock?
    options: {"Yes": done, "No": to-l2}
  done: {kind: resolve, text: Dock replaced., done_when: [Old dock returned for RMA]}
  to-l2: {kind: escalate, to: L2, text: Dock or laptop port fault.}
"""


@pytest.fixture
def teams() -> Iterator[Receiver]:
    with receiver() as rx:
        yield rx


@pytest.fixture
def crew(
    db: Database, live: LiveServer, make_staff: Callable[..., Member], teams: Receiver
) -> tuple[Member, Member]:
    """Tess (L1) and Sam (L2, on duty around the clock, Teams on the loopback receiver)."""
    tech = make_staff("Tess Tech")
    senior = make_staff("Sam Senior", level="L2")
    settings = live.app.state.settings
    # Work done here outside a request queues notifications with the server's settings.
    db.session_info["franchise_settings"] = settings
    with db.unit_of_work() as session:
        initialise(session)
        runbooks.save_runbook(session, DOCK, file="dock.yaml")
        set_delivery_setting(session, "public_url", live.url, settings)
        sam = get_staff(session, senior.id)
        set_shift(session, level="L2", staff=sam, days="daily", hours="00:00-00:00")
        set_channel(
            session, sam, kind="teams", url=teams.http_url("/sam"), by=sam, settings=settings
        )
    return tech, senior


def _blocked_ticket(db: Database, tech: Member) -> int:
    with db.unit_of_work() as session:
        ticket = create_ticket(session, title="Dock dead at reception", category="endpoint-offline")
        begin_run(
            session,
            runbooks.get_runbook(session, "dock-replacement"),
            ticket=ticket,
            actor=get_staff(session, tech.id),
        )
        return ticket.id


def _card_urls(teams: Receiver) -> dict[str, str]:
    (post,) = teams.posts
    card = post["attachments"][0]["content"]
    return {a["title"]: a["url"] for a in card["actions"]}


def _expect_unlocked(page: Page) -> None:
    """The answers can be given, without a reload: the runner checks while it waits."""
    runner = page.locator("#runner")
    expect(runner.get_by_role("button", name="Ordered")).to_be_enabled(timeout=15_000)
    expect(runner).not_to_contain_text("Waiting for approval")


def test_the_l2_on_duty_is_notified_and_approves_in_the_inbox(
    browser: Browser,
    page: Page,
    live: LiveServer,
    db: Database,
    crew: tuple[Member, Member],
    teams: Receiver,
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    tech, senior = crew
    ticket_id = _blocked_ticket(db, tech)
    urls = _card_urls(teams)
    assert teams.paths == ["/sam"]
    assert set(urls) == {"Approve", "Deny", "Open ticket"}
    assert urls["Open ticket"] == f"{live.url}/tickets/{ticket_id}"

    sign_in_as(page, tech)
    page.goto(f"{live.url}/tickets/{ticket_id}")
    runner = page.locator("#runner")
    expect(runner).to_contain_text("Waiting for approval")
    expect(runner).to_contain_text("from L2")
    expect(runner.get_by_role("button", name="Ordered")).to_be_disabled()

    context = browser.new_context(base_url=live.url)
    other = context.new_page()
    sign_in_as(other, senior)
    other.goto(urls["Open ticket"].replace(f"/tickets/{ticket_id}", "/approvals"))
    item = other.locator(".approval-item").first
    expect(item).to_contain_text("Order a replacement USB-C dock")
    item.get_by_label("Reason").fill("Standard dock")
    item.get_by_role("button", name="Approve").click()
    expect(other.get_by_role("status")).to_contain_text("decided")
    context.close()

    _expect_unlocked(page)
    with db.unit_of_work() as session:
        (request,) = list_requests(session, ticket=get_ticket(session, ticket_id))
        assert (request.status, request.decided_by_id) == ("approved", senior.id)
    assert browser_log.errors == []


def test_the_same_approval_decided_through_the_signed_link(
    browser: Browser,
    page: Page,
    live: LiveServer,
    db: Database,
    crew: tuple[Member, Member],
    teams: Receiver,
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    tech, senior = crew
    ticket_id = _blocked_ticket(db, tech)
    urls = _card_urls(teams)

    # Forwarded: the technician, signed in, opens Sam's Deny link and is refused.
    sign_in_as(page, tech)
    page.goto(urls["Deny"])
    expect(page.locator("#link-refused")).to_contain_text("sent to someone else")

    # Sam opens the Approve link from Teams on a phone that is not signed in.
    context = browser.new_context(base_url=live.url)
    sam = context.new_page()
    sam.goto(urls["Approve"])
    confirm = sam.locator("#link-confirm")
    expect(sam.get_by_role("heading", level=1)).to_contain_text("Approve approval #")
    expect(confirm).to_contain_text("Order a replacement USB-C dock")
    # Opening changed nothing.
    with db.unit_of_work() as session:
        (request,) = list_requests(session, ticket=get_ticket(session, ticket_id))
        assert request.status == "pending"
    confirm.get_by_label("Reason (optional)").fill("Fine, standard dock")
    confirm.get_by_role("button", name="Approve").click()
    expect(sam.locator("#link-done")).to_contain_text("approved")
    # Used once: opening it again is refused.
    sam.goto(urls["Approve"])
    expect(sam.locator("#link-refused")).to_contain_text("already used")
    # Altered: refused too.
    sam.goto(urls["Approve"][:-3] + "abc")
    expect(sam.locator("#link-refused")).to_contain_text("not valid")
    context.close()

    page.goto(f"{live.url}/tickets/{ticket_id}")
    _expect_unlocked(page)
    with db.unit_of_work() as session:
        (request,) = list_requests(session, ticket=get_ticket(session, ticket_id))
        assert (request.status, request.decided_by_id) == ("approved", senior.id)
        assert "Fine, standard dock" in request.reason


def test_escalation_assigns_the_l2_on_duty_and_notifies_them(
    page: Page,
    live: LiveServer,
    db: Database,
    crew: tuple[Member, Member],
    teams: Receiver,
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    tech, senior = crew
    with db.unit_of_work() as session:
        ticket = create_ticket(session, title="Dock dead at reception", category="endpoint-offline")
        me = get_staff(session, tech.id)
        run = begin_run(
            session, runbooks.get_runbook(session, "dock-replacement"), ticket=ticket, actor=me
        )
        (request,) = list_requests(session, ticket=ticket)
        from franchise.flows.approvals import decide_request

        decide_request(
            session, request, by=get_staff(session, senior.id), approve=True, reason="ok"
        )
        record_answer(session, run, step="order", reply="Ordered", actor=me)
        record_answer(session, run, step="fitted", reply="No", actor=me)
        ticket_id = ticket.id
    teams.posts.clear()

    sign_in_as(page, tech)
    page.goto(f"{live.url}/tickets/{ticket_id}")
    panel = page.locator("#escalation")
    expect(panel).to_contain_text("Escalation allowed: Yes")
    panel.get_by_role("button", name="Escalate to L2").click()
    expect(panel).to_contain_text("Escalated to L2")
    # The holder's name shows in the details (the escalation panel's own holder line is
    # the ticket page's to add).
    page.reload()
    expect(page.locator("#facts")).to_contain_text("Sam Senior")
    (post,) = teams.posts
    body = post["attachments"][0]["content"]["body"]
    assert body[0]["text"] == f"Ticket #{ticket_id} escalated to you"
    assert "Tess Tech escalated" in body[1]["text"]
    with db.unit_of_work() as session:
        assert get_ticket(session, ticket_id).assignee_id == senior.id
    assert browser_log.errors == []


def test_my_notifications_and_the_staff_page_set_channels(
    page: Page,
    live: LiveServer,
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    tech = make_staff("Tess Tech")
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    sign_in_as(page, tech)
    page.goto(f"{live.url}/queue")
    page.get_by_role("link", name="My notifications").click()
    form = page.locator("#channel-form")
    form.locator("select[name=kind]").select_option("teams")
    form.get_by_label("Webhook URL").fill("https://prod-1.westeurope.logic.azure.com/wf?sig=S3CRET")
    form.get_by_role("button", name="Save channel").click()
    expect(page.get_by_role("status")).to_contain_text("Your Teams channel was saved")
    channels = page.locator("#channels")
    expect(channels).to_contain_text("Teams: webhook at prod-1.westeurope.logic.azure.com")
    expect(page.locator("body")).not_to_contain_text("S3CRET")
    form = page.locator("#channel-form")
    form.get_by_label("Webhook URL").fill("not a url")
    form.get_by_role("button", name="Save channel").click()
    expect(page.get_by_role("alert")).to_contain_text("Workflows webhook")

    page.context.clear_cookies()
    sign_in_as(page, owner)
    page.goto(f"{live.url}/staff")
    row = page.locator(f"#channels-{tech.id}")
    row.locator("select[name=kind]").select_option("slack")
    row.get_by_label("Webhook URL").fill("https://hooks.slack.com/services/T0/B0/x")
    row.get_by_label("Slack member id").fill("U024BE7LH")
    row.get_by_role("button", name="Save").click()
    expect(page.locator("#channels").get_by_role("status")).to_contain_text(
        f"Saved {tech.email}: slack"
    )
    expect(page.locator(f"#channels-{tech.id}")).to_contain_text(
        "Slack (hooks.slack.com, U024BE7LH)"
    )
    assert browser_log.errors == []


def test_asking_the_owner_with_no_channel_says_nobody_was_told(
    page: Page,
    live: LiveServer,
    db: Database,
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    tech = make_staff("Tess Tech")
    make_staff("Olivia Owner", role="owner", level="owner")
    with db.unit_of_work() as session:
        initialise(session)
        ticket_id = create_ticket(session, title="Client wants a discount").id
    sign_in_as(page, tech)
    # A ticket with no runbook yet: the page ranks the library for it, which takes seconds
    # on a busy machine.
    page.goto(f"{live.url}/tickets/{ticket_id}", timeout=30000)
    ask = page.locator("#ask")
    ask.get_by_label("Reason").select_option("other")
    ask.get_by_label("Question").fill("Can we give them 10% off?")
    ask.get_by_role("button", name="Ask the owner").click()
    answer_box = ask.get_by_role("status")
    expect(answer_box).to_contain_text("Sent to the owner")
    # Said once, not as a headline repeated by the answer ("Sent to the owner. Sent to...").
    expect(answer_box).not_to_contain_text("Sent to the owner. Sent to the owner")
    expect(answer_box).to_contain_text("delivered: []")
    expect(answer_box).to_contain_text("No notification channel is configured")
