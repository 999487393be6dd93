"""The ticket page's runbook panel in the browser: the offer of a runbook not sure enough to
attach, attaching it with a reason, detaching it, and a refusal shown in the panel."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from franchise.db import Database
from franchise.flows.opening import open_ticket
from tests.web.conftest import BrowserLog, Member
from tests.web.test_vpn_scenario import starter  # noqa: F401 - fixture used by name

TEAMS = "Teams crashes every time I share my screen in a meeting"


def test_the_offered_runbook_is_attached_then_detached_with_reasons(
    page: Page,
    db: Database,
    starter: None,  # noqa: F811
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    with db.unit_of_work() as session:
        ticket_id = open_ticket(session, title=TEAMS)[0].id
    sign_in_as(page, make_staff())
    page.goto(f"/tickets/{ticket_id}")
    panel = page.locator("#runbook")
    verdict = page.locator("#escalation .verdict")
    expect(panel).to_contain_text("No runbook attached: the escalation map's default decides.")
    offer = panel.locator(".tp-runbook-offer")
    expect(offer).to_contain_text("Suggested: endpoint-offline (confidence 0.")
    expect(offer).to_contain_text("too low to attach on its own")
    expect(verdict).to_have_text("Escalation allowed: Yes — to L2")
    # The runner does not open a runbook this unlikely as if it were the answer.
    box = page.locator("#runner")
    expect(box).to_contain_text("No runbook fits this ticket well enough to attach")
    expect(box.locator(".tp-suggestion[open]")).to_have_count(0)
    expect(box.locator(".tp-suggestion-meta").first).to_contain_text("match 0.")

    offer.get_by_label("Why it fits").fill("The laptop drops off the network when Teams crashes")
    offer.get_by_role("button", name="Attach").click()
    expect(panel).to_contain_text("Follows endpoint-offline (chosen by a technician).")
    expect(panel.locator(".tp-runbook-offer")).to_have_count(0)
    expect(verdict).to_have_text("Escalation allowed: No")
    expect(page.locator("#history")).to_contain_text(
        "The laptop drops off the network when Teams crashes"
    )

    panel.get_by_text("Replace or detach").click()
    panel.get_by_label("Why no runbook covers this ticket").fill("Teams itself crashes")
    panel.get_by_role("button", name="Detach").click()
    expect(panel).to_contain_text("No runbook covers this ticket (detached by a technician)")
    expect(verdict).to_have_text("Escalation allowed: Yes — to L2")
    expect(page.locator("#history")).to_contain_text("Teams itself crashes")
    assert browser_log.errors == []


def test_a_refusal_is_shown_in_the_runbook_panel(
    page: Page,
    db: Database,
    starter: None,  # noqa: F811
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    with db.unit_of_work() as session:
        ticket_id = open_ticket(session, title=TEAMS)[0].id
    sign_in_as(page, make_staff())
    page.goto(f"/tickets/{ticket_id}")
    panel = page.locator("#runbook")
    panel.get_by_text("Attach a runbook").click()
    reason = panel.locator("form", has=page.get_by_role("button", name="Attach", exact=True))
    reason = reason.last.get_by_label("Reason")
    # What an old browser (no `required`) or a hand-made request would send.
    reason.evaluate("field => field.removeAttribute('required')")
    panel.get_by_role("button", name="Attach", exact=True).last.click()
    expect(panel.locator(".tp-notice")).to_contain_text("say why")
    expect(panel).to_contain_text("No runbook attached")
