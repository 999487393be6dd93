"""Hand-offs in Chromium: an approval reaches the L2 on duty on their own channel (a
loopback Teams webhook), is decided in the inbox or through the signed link in the card,
and the L1's runner unlocks; an escalation assigns the L2 on duty and tells them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from franchise.accounts.service import get_staff
from franchise.approvals.service import list_requests
from franchise.ask.reply import ticket_asks
from franchise.ask.service import ask_owner
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.duty.service import set_shift
from franchise.flows.runs import begin_run, record_answer
from franchise.lessons.service import list_lessons
from franchise.orgsettings.secrets import set_delivery_setting
from franchise.people.service import set_channel
from franchise.runbooks import service as runbooks
from franchise.tickets.service import change_ticket, create_ticket, get_ticket
from tests.notify.receiver import Receiver, receiver
from tests.web.conftest import PHONE, BrowserLog, LiveServer, Member, screenshot

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
    # Who approved, by name, and in their own words: not the e-mail and the whole record.
    approved = page.locator("#runner .tp-approval")
    expect(approved).to_contain_text("Approved by Sam Senior")
    expect(approved).to_contain_text(": Standard dock")
    expect(approved).not_to_contain_text("@example.com")
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
    # The escalation carries a handover note: the button alone does not send it.
    panel.get_by_role("button", name="Escalate to L2").click()
    expect(panel).not_to_contain_text("Escalated to L2")
    panel.get_by_label("Handover note for L2").fill(
        "Spooler restarted twice; jobs still stuck. Event 372 in PrintService/Admin attached."
    )
    panel.get_by_role("button", name="Escalate to L2").click()
    expect(panel).to_contain_text("Escalated to L2")
    expect(page.locator("#history")).to_contain_text("Handover to L2: Spooler restarted twice")
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


def test_the_runbook_endings_escalate_button_carries_the_handover_note(
    page: Page,
    live: LiveServer,
    db: Database,
    crew: tuple[Member, Member],
    teams: Receiver,
    sign_in_as: Callable[[Page, Member], None],
    session_cookie: Callable[[Member], dict[str, str]],
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

    # Without a note the server refuses too (an old page, a script): nothing is escalated.
    cookies = session_cookie(tech)
    with httpx.Client(base_url=live.url, cookies=cookies) as client:
        form = client.get(f"/tickets/{ticket_id}").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf is not None
        refused = client.post(
            f"/tickets/{ticket_id}/escalate", data={"csrf_token": csrf.group(1), "to": "L2"}
        )
        assert "write a handover note for L2" in refused.text
    with db.unit_of_work() as session:
        assert get_ticket(session, ticket_id).status != "escalated"

    sign_in_as(page, tech)
    page.goto(f"{live.url}/tickets/{ticket_id}")
    offer = page.locator("#runner .tp-offer")
    offer.get_by_label("Handover note for L2").fill(
        "New WD19S fitted; laptop charges but no display on either monitor. USB-C port suspect."
    )
    offer.get_by_role("button", name="Escalate to L2 now").click()
    expect(page.locator("#ticket-head .badges")).to_contain_text("Escalated")
    expect(page.locator("#history")).to_contain_text("Handover to L2: New WD19S fitted")
    # The holder reads the note in the notification itself, not only at the ticket's foot.
    (post,) = teams.posts
    body = post["attachments"][0]["content"]["body"]
    assert "Handover note: New WD19S fitted" in body[1]["text"]
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
    expect(answer_box).to_contain_text("No notification channel is configured")
    # The command line's "delivered: []" is not for the page.
    expect(answer_box).not_to_contain_text("delivered:")


# --- owner answers, the compromise journey, the duty roster --------------------------------

NAS = """\
format: 2
key: nas-retire
title: Old NAS failing
category: backup
status: validated
start: still-needed
steps:
  still-needed:
    kind: check
    text: Does the client still use the NAS?
    options: {"Yes": to-l2, "No or not sure": to-l2}
  to-l2: {kind: escalate, to: L2, text: L2 agrees the retirement with the client.}
"""

COMPROMISE = """\
format: 2
key: mailbox-compromise
title: Suspected mailbox compromise
category: account-lockout
status: validated
fallback: {to: L2, text: Attach the sign-in log.}
start: keys
steps:
  keys:
    kind: action
    text: Order two hardware security keys for the user's admin and mail accounts.
    estimate: {minutes: 15, cost: 240, impact: none, kind: hardware-purchase}
    options: {"Ordered": leaving}
  leaving:
    kind: check
    text: Has mail or data left the tenant?
    options: {"Yes": to-owner, "No": done}
  to-owner: {kind: escalate, to: owner, emergency: true, text: Data left the tenant.}
  done: {kind: resolve, text: Contained., done_when: [Client told]}
"""


def test_the_owner_answers_an_ask_on_the_ticket_and_the_technician_sees_it(
    browser: Browser,
    page: Page,
    live: LiveServer,
    db: Database,
    crew: tuple[Member, Member],
    make_staff: Callable[..., Member],
    teams: Receiver,
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    _tech, senior = crew
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    question = "The client wants us to keep the old NAS running; do we charge for it?"
    with db.unit_of_work() as session:
        runbooks.save_runbook(session, NAS, file="nas.yaml")
        ticket = create_ticket(session, title="Old NAS keeps failing backups", category="backup")
        sam = get_staff(session, senior.id)
        run = begin_run(
            session, runbooks.get_runbook(session, "nas-retire"), ticket=ticket, actor=sam
        )
        record_answer(session, run, step="still-needed", reply="Yes", actor=sam)
        asked = ask_owner(
            session,
            ticket=ticket,
            by=sam,
            reason="technical_decision",
            question=question,
            settings=live.app.state.settings,
        )
        assert asked.outcome == "interruption", asked.answer.text
        ticket_id, ask_id = ticket.id, asked.contact_id
    teams.posts.clear()
    teams.paths.clear()

    # The owner answers on the ticket.
    sign_in_as(page, owner)
    page.goto(f"{live.url}/tickets/{ticket_id}")
    ask = page.locator("#ask")
    item = ask.locator(f"#ask-{ask_id}")
    expect(item).to_contain_text("Sam Senior asked (Technical decision)")
    expect(item).to_contain_text(question)
    item.get_by_label("Your answer").fill("Yes: quote 2 hours a month, and the new disks at cost.")
    item.get_by_role("button", name="Send answer").click()
    notice = ask.get_by_role("status")
    expect(notice).to_contain_text("Answer saved on the ticket and sent to Sam Senior (Teams)")
    expect(notice).to_contain_text("turn this answer into a runbook change")
    # Answered: no reply box any more; the lesson and the history show it without a reload.
    expect(item.get_by_label("Your answer")).to_have_count(0)
    expect(item.locator(".tp-ask-answer")).to_contain_text("Olivia Owner answered")
    expect(page.locator("#lesson")).to_contain_text("The owner answered: Yes: quote 2 hours")
    expect(page.locator("#history")).to_contain_text("The owner answered: Yes")

    # Delivered back to Sam's Teams channel.
    assert teams.paths == ["/sam"]
    body = teams.posts[0]["attachments"][0]["content"]["body"]
    assert body[0]["text"] == f"The owner answered your question (ask #{ask_id})"

    # Sam, signed in on his own, sees the answer on the ticket, as typed.
    context = browser.new_context(base_url=live.url, viewport={"width": 1400, "height": 900})
    mine = context.new_page()
    sign_in_as(mine, senior)
    mine.goto(f"/tickets/{ticket_id}")
    answered = mine.locator(f"#ask-{ask_id} .tp-ask-answer")
    expect(answered).to_contain_text("Yes: quote 2 hours a month, and the new disks at cost.")
    expect(mine.locator("#ask").get_by_label("Your answer")).to_have_count(0)
    screenshot(mine, "ask-answered.png")
    mine.set_viewport_size(PHONE)
    expect(answered).to_be_visible()
    assert mine.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()

    with db.unit_of_work() as session:
        (lesson,) = list_lessons(session, ticket_id=ticket_id)
        assert lesson["state"] == "pending" and lesson["runbook"] == "nas-retire"
    assert browser_log.errors == []


def test_a_compromise_step_waiting_on_approval_escalates_and_an_emergency_reaches_the_owner(
    browser: Browser,
    page: Page,
    live: LiveServer,
    db: Database,
    crew: tuple[Member, Member],
    make_staff: Callable[..., Member],
    teams: Receiver,
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    tech, _senior = crew
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    settings = live.app.state.settings
    with db.unit_of_work() as session:
        runbooks.save_runbook(session, COMPROMISE, file="compromise.yaml")
        olivia = get_staff(session, owner.id)
        set_channel(
            session,
            olivia,
            kind="teams",
            url=teams.http_url("/olivia"),
            by=olivia,
            settings=settings,
        )
        ticket = create_ticket(
            session, title="Suspicious sign-ins on the CFO's mailbox", category="account-lockout"
        )
        begin_run(
            session,
            runbooks.get_runbook(session, "mailbox-compromise"),
            ticket=ticket,
            actor=get_staff(session, tech.id),
        )
        ticket_id = ticket.id
    teams.posts.clear()
    teams.paths.clear()

    # The containment step waits on L2's approval; escalating to L2 is allowed meanwhile.
    sign_in_as(page, tech)
    page.goto(f"/tickets/{ticket_id}")
    expect(page.locator("#runner")).to_contain_text("Waiting for approval")
    panel = page.locator("#escalation")
    expect(panel.locator(".verdict")).to_have_text("Escalation allowed: Yes — to L2")
    expect(panel).to_contain_text("escalating to L2 is allowed meanwhile")
    panel.get_by_label("Handover note for L2").fill("Waiting on the mailbox export approval.")
    panel.get_by_role("button", name="Escalate to L2").click()
    expect(panel.get_by_role("status")).to_contain_text("Escalated to L2")
    expect(panel.locator("#escalation-holder")).to_have_text("Held by Sam Senior at L2")
    # At L2 the map allows nothing higher yet, so no button is offered, and the panel says
    # so rather than "Escalation allowed: Yes — to L2" to the L2 who holds it.
    expect(panel.get_by_role("button")).to_have_count(0)
    page.reload()
    expect(panel.locator(".verdict")).to_have_text("Escalated to L2: nothing higher is allowed now")
    assert teams.paths == ["/sam"]

    # The client confirms an attacker got in (their reply lands on the ticket).
    with live.gate.exclusive(), db.unit_of_work() as session:
        change_ticket(
            session,
            get_ticket(session, ticket_id),
            actor=None,
            body="Client: the attacker logged in and forwarded the CFO's mail outside.",
        )

    # Asked as an emergency, the map backs it: the owner is reached, even mid-approval.
    page.reload()
    ask = page.locator("#ask")
    ask.get_by_label("Reason").select_option("technical_decision")
    ask.get_by_label("Question").fill(
        "Attacker confirmed in the CFO's mailbox. Call the client's CEO?"
    )
    ask.get_by_label("This is an emergency").check()
    ask.get_by_role("button", name="Ask the owner").click()
    answer = ask.get_by_role("status")
    expect(answer).to_contain_text("Emergency under the escalation map")
    expect(answer).to_contain_text("sent to the owner now")
    expect(page.locator("#ticket-head")).to_contain_text("Critical priority")
    expect(page.locator("#escalation .verdict")).to_have_text("Escalation allowed: Yes — to owner")
    assert "/olivia" in teams.paths

    # The owner sees it on the dashboard and on the ticket, marked as an emergency.
    context = browser.new_context(base_url=live.url)
    olivia_page = context.new_page()
    sign_in_as(olivia_page, owner)
    # Every page's navigation says an ask waits, as it does for approvals.
    olivia_page.goto("/queue")
    badge = olivia_page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard")
    expect(badge.locator(".nav-count")).to_have_text("1")
    olivia_page.goto("/dashboard")
    waiting = olivia_page.locator("#asks")
    expect(waiting).to_contain_text("Asks waiting for you")
    expect(waiting).to_contain_text("Attacker confirmed in the CFO's mailbox")
    expect(waiting).to_contain_text("Emergency")
    # First on the page after the figures: the one thing there to act on now.
    assert olivia_page.evaluate(
        "document.querySelector('#asks').getBoundingClientRect().top"
        " < document.querySelector('#kpi').getBoundingClientRect().top"
    )
    # The dashboard's link opens the ticket at the ask itself.
    waiting.get_by_role("link", name=f"#{ticket_id}").click()
    expect(olivia_page).to_have_url(re.compile(rf"/tickets/{ticket_id}#ask-\d+$"))
    expect(olivia_page.locator("#ask-title")).to_have_text("Asks to the owner")
    item = olivia_page.locator("#ask .tp-ask-item")
    expect(item).to_contain_text("Emergency")
    expect(item.get_by_label("Your answer")).to_be_visible()
    context.close()
    with db.unit_of_work() as session:
        assert get_ticket(session, ticket_id).priority == "critical"
    assert browser_log.errors == []


def test_the_owner_edits_the_duty_roster_and_a_technician_is_refused(
    page: Page,
    phone_page: Page,
    live: LiveServer,
    crew: tuple[Member, Member],
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    tech, _senior = crew
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    sign_in_as(page, owner)
    page.goto("/settings")
    page.get_by_role("link", name="duty roster").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Duty roster")
    expect(page.locator("#now-L2")).to_have_text("Sam Senior")
    expect(page.locator("#now-owner")).to_contain_text("Nobody")

    form = page.locator("#duty-form")
    # A mistake is named and the form kept: an L1 cannot back up the owner.
    form.get_by_label("Level").select_option(label="Owner's backup")
    form.get_by_label("Person").select_option(label="Tess Tech (L1)")
    form.get_by_role("button", name="Add shift").click()
    expect(page.get_by_role("alert")).to_contain_text("owner's backup must be an L2")
    form = page.locator("#duty-form")
    expect(form.get_by_label("Person")).to_have_value(str(tech.id))

    form.get_by_label("Person").select_option(label="Sam Senior (L2)")
    form.get_by_label("From").fill("18:00")
    form.get_by_label("Until").fill("08:00")
    form.get_by_label("Sat").check()
    form.get_by_role("button", name="Add shift").click()
    expect(page.get_by_role("status")).to_have_text("Shift added.")
    shifts = page.locator("#duty-shifts")
    expect(shifts).to_contain_text("mon,tue,wed,thu,fri,sat 18:00-08:00")
    saturday = page.locator("#duty-week tbody tr", has_text="Sat")
    expect(saturday.locator("td").nth(2)).to_contain_text("Sam Senior 18:00-08:00")
    expect(saturday.locator("td").nth(1)).to_contain_text("Sam Senior all day")
    screenshot(page, "duty-roster.png")

    sign_in_as(phone_page, owner)
    phone_page.goto("/settings/duty")
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(phone_page, "duty-roster-phone.png")

    shifts.get_by_role("button", name="Remove Sam Senior's shift daily 00:00-00:00").click()
    expect(page.get_by_role("status")).to_have_text("Shift removed.")
    expect(page.locator("#now-L2")).to_contain_text("Nobody")

    page.context.clear_cookies()
    sign_in_as(page, tech)
    response = page.goto("/settings/duty")
    assert response is not None and response.status == 403
    expect(page.locator("body")).not_to_contain_text("Add shift")
    assert browser_log.errors == []


def test_replies_and_roster_changes_are_refused_to_the_wrong_person_or_without_csrf(
    live: LiveServer,
    db: Database,
    crew: tuple[Member, Member],
    make_staff: Callable[..., Member],
    session_cookie: Callable[[Member], dict[str, str]],
) -> None:
    _tech, senior = crew
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    with db.unit_of_work() as session:
        ticket = create_ticket(session, title="Client wants a discount")
        other = create_ticket(session, title="Printer jam")
        asked = ask_owner(
            session,
            ticket=ticket,
            by=get_staff(session, senior.id),
            reason="other",
            question="Can we give them 10% off?",
            settings=live.app.state.settings,
        )
        ticket_id, other_id, ask_id = ticket.id, other.id, asked.contact_id

    def client(member: Member) -> tuple[httpx.Client, str]:
        http = httpx.Client(base_url=live.url, cookies=session_cookie(member), timeout=10)
        page = http.get("/me")  # a light page that carries the session's CSRF token
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found is not None
        return http, found.group(1)

    sam, sam_csrf = client(senior)
    refused = sam.post(
        f"/tickets/{ticket_id}/asks/{ask_id}/reply", data={"csrf_token": sam_csrf, "text": "Sure"}
    )
    assert refused.status_code == 403 and "only the owner" in refused.text
    assert sam.get("/settings/duty").status_code == 403

    olivia, csrf = client(owner)
    assert (
        olivia.post(f"/tickets/{ticket_id}/asks/{ask_id}/reply", data={"text": "No"}).status_code
        == 403
    )
    wrong = olivia.post(
        f"/tickets/{other_id}/asks/{ask_id}/reply", data={"csrf_token": csrf, "text": "No"}
    )
    assert wrong.status_code == 404 and f"has no ask #{ask_id}" in wrong.text
    blank = olivia.post(
        f"/tickets/{ticket_id}/asks/{ask_id}/reply", data={"csrf_token": csrf, "text": "  "}
    )
    assert blank.status_code == 422 and "write the reply" in blank.text
    assert olivia.post("/settings/duty", data={"level": "L2"}).status_code == 403
    # Without JavaScript the answer comes back as the page, with who was told.
    done = olivia.post(
        f"/tickets/{ticket_id}/asks/{ask_id}/reply",
        data={"csrf_token": csrf, "text": "No discounts <script>alert(1)</script> this year."},
    )
    assert done.status_code == 200
    assert "<script>alert(1)" not in done.text and "&lt;script&gt;alert(1)" in done.text
    assert "sent to Sam Senior (Teams)" in done.text
    assert "No runbook covers this ticket" in done.text
    sam.close()
    olivia.close()
    with db.unit_of_work() as session:
        (row,) = ticket_asks(session, ticket_id)
        assert row.answer == "No discounts <script>alert(1)</script> this year."
        assert row.answered_by == "Olivia Owner"
