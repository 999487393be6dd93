"""The approvals inbox: an L2 sees what waits for L2 (with a count in the navigation),
approves it with a reason, and the technician's step is unlocked; an L1 sees nothing of it,
and deciding someone else's request above your boundary is refused on the page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from franchise.accounts.service import get_staff
from franchise.approvals.service import list_requests
from franchise.bootstrap import initialise
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.flows.runs import begin_run, blocked_by
from franchise.orgsettings.service import set_setting
from franchise.runbooks import service as runbooks
from franchise.runbooks.models import RunbookRun
from franchise.tickets.notes import add_internal_note
from franchise.tickets.service import create_ticket, get_ticket
from tests.web.conftest import BrowserLog, LiveServer, Member, screenshot

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


def _blocked_ticket(db: Database, tech: Member) -> tuple[int, int]:
    with db.unit_of_work() as session:
        initialise(session)
        runbooks.save_runbook(session, DOCK, file="dock.yaml")
        ticket = create_ticket(session, title="Dock dead at reception", category="endpoint-offline")
        run = begin_run(
            session,
            runbooks.get_runbook(session, "dock-replacement"),
            ticket=ticket,
            actor=get_staff(session, tech.id),
        )
        return ticket.id, run.id


def test_an_l2_approves_from_the_inbox_and_the_step_unlocks(
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
    ticket_id, run_id = _blocked_ticket(db, tech)
    with db.unit_of_work() as session:
        (request,) = list_requests(session, ticket=get_ticket(session, ticket_id))
        assert (request.status, request.approver_level) == ("pending", "L2")
        request_id = request.id

    # The L1 who asked sees it under "Your requests", not as something to decide.
    sign_in_as(page, tech)
    page.goto(f"{live.url}/approvals")
    expect(page.locator("#waiting")).to_contain_text("Nothing waits for you.")
    expect(page.locator("#mine")).to_contain_text("Pending (L2)")

    context = browser.new_context(base_url=live.url, viewport={"width": 1400, "height": 900})
    other = context.new_page()
    sign_in_as(other, senior)
    other.goto(f"{live.url}/queue")
    expect(other.locator(".side-nav")).to_contain_text("Approvals 1")
    other.get_by_role("link", name="Approvals").click()
    item = other.locator(f"#approval-{request_id}")
    expect(item).to_contain_text("Order a replacement USB-C dock")
    expect(item).to_contain_text("Waits for L2")
    screenshot(other, "approvals-inbox.png")
    item.get_by_label("Reason").fill("Standard dock, within the hardware budget")
    item.get_by_role("button", name="Approve").click()
    notice = other.get_by_role("status")
    expect(notice).to_contain_text(f"Approved: approval #{request_id} for ticket #{ticket_id}")
    expect(notice).to_contain_text("Dock dead at reception")
    expect(other.locator(".side-nav")).not_to_contain_text("Approvals 1")
    context.close()

    with db.unit_of_work() as session:
        run = session.get(RunbookRun, run_id)
        assert run is not None
        assert blocked_by(session, run, "order") is None
        (request,) = list_requests(session, ticket=get_ticket(session, ticket_id))
        assert request.status == "approved"
        assert "approved by sam.senior@example.com: Standard dock" in request.reason

    # The technician sees who approved it and why, by name.
    page.reload()
    mine = page.locator(f"#own-{request_id}")
    expect(mine).to_contain_text("Approved by Sam Senior")
    expect(mine).to_contain_text("Standard dock, within the hardware budget")
    assert browser_log.errors == []


def test_deciding_above_your_boundary_is_refused_on_the_page(
    page: Page,
    live: LiveServer,
    db: Database,
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    session_cookie: Callable[[Member], dict[str, str]],
) -> None:
    tech = make_staff("Tess Tech")
    other_tech = make_staff("Lee Lowlevel")
    ticket_id, _run_id = _blocked_ticket(db, tech)
    with db.unit_of_work() as session:
        (request,) = list_requests(session, ticket=get_ticket(session, ticket_id))
        request_id = request.id
    sign_in_as(page, other_tech)
    page.goto(f"{live.url}/approvals")
    expect(page.locator("#waiting")).to_contain_text("Nothing waits for you.")
    # A hand-made post (the page offers no button) is refused by the service.
    token = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    response = page.request.post(
        f"{live.url}/approvals/{request_id}/decide",
        form={"decision": "approve", "reason": "sure", "csrf_token": token},
    )
    assert response.status == 403
    assert "may not decide it" in response.text()


LICENCE = """\
format: 2
key: extra-licence
title: Add a Microsoft 365 licence
category: onboarding
status: validated
fallback: {to: L2, text: Attach the client's approval.}
inputs:
  - {id: new_user, label: New user, required: true}
  - {id: device, label: Device, required: false}
start: buy
steps:
  buy:
    kind: action
    text: Add one Business Premium licence through the distributor portal.
    estimate: {minutes: 10, cost: 18, impact: none, kind: licence-purchase, recurring: month}
    options: {"Licence added": done}
  done: {kind: resolve, text: Licence assigned., done_when: [Licence shows on the user]}
"""
NOTE = "Spare licences are all used; the client's MD approved one more by e-mail."


def _licence_request(db: Database, tech: Member) -> tuple[int, int]:
    """An L1's monthly licence for a client's new starter: above the L1 boundary (a year
    of it is), so it waits for L2; the organisation counts in pounds."""
    with db.unit_of_work() as session:
        initialise(session)
        set_setting(session, "currency", "GBP")
        add_client(session, name="Acme Dental", tier="standard", endpoints=10)
        runbooks.save_runbook(session, LICENCE, file="licence.yaml")
        ticket = create_ticket(
            session,
            title="Licence for new starter Dana",
            category="onboarding",
            client="Acme Dental",
        )
        me = get_staff(session, tech.id)
        add_internal_note(session, ticket, NOTE, by=me)
        begin_run(
            session,
            runbooks.get_runbook(session, "extra-licence"),
            ticket=ticket,
            actor=me,
            inputs={"new_user": "Dana Whitmore", "device": "LAPTOP-DW01"},
        )
        (request,) = list_requests(session, ticket=ticket)
        assert (request.status, request.approver_level) == ("pending", "L2")
        return ticket.id, request.id


def _no_sideways_scroll(page: Page) -> None:
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths


def test_the_card_says_enough_to_decide_and_the_requester_hears_why_it_was_denied(
    browser: Browser,
    phone_page: Page,
    live: LiveServer,
    db: Database,
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
    tmp_path: Path,
) -> None:
    tech = make_staff("Tess Tech")
    senior = make_staff("Sam Senior", level="L2")
    ticket_id, request_id = _licence_request(db, tech)

    context = browser.new_context(base_url=live.url, viewport={"width": 1400, "height": 900})
    other = context.new_page()
    sign_in_as(other, senior)
    other.goto(f"{live.url}/approvals")
    card = other.locator(f"#approval-{request_id}")
    # The ticket and its client, linked, so nobody has to open the ticket to know what it is.
    ticket_link = card.get_by_role("link", name=f"#{ticket_id} Licence for new starter Dana")
    expect(ticket_link).to_have_attribute("href", f"/tickets/{ticket_id}")
    expect(card.get_by_role("link", name="Acme Dental")).to_be_visible()
    # The money in the organisation's currency, as often as it is paid.
    expect(card.locator(".approval-cost")).to_have_text("£18.00/month (£216.00 a year)")
    expect(card).to_contain_text("Add a Microsoft 365 licence, step Buy")
    expect(card).to_contain_text("Add one Business Premium licence through the distributor portal.")
    # The run's inputs, the technician by name (not e-mail) and in their own words.
    expect(card).to_contain_text("Dana Whitmore")
    expect(card).to_contain_text("LAPTOP-DW01")
    expect(card.locator(".approval-requester")).to_contain_text("Tess Tech")
    expect(card).not_to_contain_text(tech.email)
    expect(card.locator(".approval-note")).to_contain_text(NOTE)
    expect(card).to_contain_text("exceeds L1 limit")
    _no_sideways_scroll(other)
    other.screenshot(path=str(tmp_path / "approvals-card.png"), full_page=True)
    # On a phone the card's facts stack and nothing is pushed off the side.
    other.set_viewport_size({"width": 390, "height": 844})
    _no_sideways_scroll(other)
    other.screenshot(path=str(tmp_path / "approvals-card-phone.png"), full_page=True)
    other.set_viewport_size({"width": 1400, "height": 900})

    card.get_by_label("Reason").fill("Move the leaver's licence to Dana instead")
    card.get_by_role("button", name="Deny").click()
    notice = other.get_by_role("status")
    expect(notice).to_contain_text(f"Denied: approval #{request_id} for ticket #{ticket_id}")
    expect(notice).to_contain_text("Licence for new starter Dana")
    expect(other.locator("#waiting")).to_contain_text("Nothing waits for you.")
    context.close()

    # The technician, on a phone: who denied it, why, and the way back to the ticket.
    sign_in_as(phone_page, tech)
    phone_page.goto(f"{live.url}/approvals")
    mine = phone_page.locator(f"#own-{request_id}")
    expect(mine).to_contain_text("Denied by Sam Senior")
    expect(mine).to_contain_text("Move the leaver's licence to Dana instead")
    expect(mine).not_to_contain_text(senior.email)
    expect(mine).to_contain_text("£18.00/month")
    expect(
        mine.get_by_role("link", name=f"#{ticket_id} Licence for new starter Dana")
    ).to_be_visible()
    _no_sideways_scroll(phone_page)
    phone_page.screenshot(path=str(tmp_path / "approvals-mine-phone.png"), full_page=True)
    assert browser_log.errors == []
