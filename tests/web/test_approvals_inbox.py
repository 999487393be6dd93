"""The approvals inbox: an L2 sees what waits for L2 (with a count in the navigation),
approves it with a reason, and the technician's step is unlocked; an L1 sees nothing of it,
and deciding someone else's request above your boundary is refused on the page."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect

from franchise.accounts.service import get_staff
from franchise.approvals.service import list_requests
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.flows.runs import begin_run, blocked_by
from franchise.runbooks import service as runbooks
from franchise.runbooks.models import RunbookRun
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
    expect(other.get_by_role("status")).to_contain_text(f"Approval #{request_id} decided")
    expect(other.locator(".side-nav")).not_to_contain_text("Approvals 1")
    context.close()

    with db.unit_of_work() as session:
        run = session.get(RunbookRun, run_id)
        assert run is not None
        assert blocked_by(session, run, "order") is None
        (request,) = list_requests(session, ticket=get_ticket(session, ticket_id))
        assert request.status == "approved"
        assert "approved by sam.senior@example.com: Standard dock" in request.reason
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
