"""Changing the requester on the ticket page: the Details card and the identity step show the
new requester's number at once; the control is only there for those who may use it."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from franchise.accounts.service import get_staff
from franchise.clients.contacts import ContactFields, add_contact
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.flows.runs import begin_run, record_answer, runner_view
from franchise.runbooks import service as runbooks
from franchise.tickets.service import create_ticket
from tests.web.conftest import BrowserLog, Member
from tests.web.test_vpn_scenario import starter  # noqa: F401 - fixture used by name


def _ticket_at_the_identity_step(db: Database, assignee: Member) -> int:
    """A lockout ticket requested by Dana, assigned to `assignee`, its run at the callback."""
    with db.unit_of_work() as session:
        client = add_client(session, name="Harbour Dental")
        dana = add_contact(
            session, client, ContactFields(name="Dana Lee", phone="0161 555 0101", primary=True)
        )
        add_contact(
            session,
            client,
            ContactFields(name="Sam Patel", email="sam@harbour.example", mobile="07700 900456"),
        )
        ticket = create_ticket(
            session, title="Locked out of my account", client=client.id, requester=dana.id
        )
        ticket.assignee_id = assignee.id
        tess = get_staff(session, assignee.id)
        run = begin_run(
            session, runbooks.get_runbook(session, "account-lockout"), ticket=ticket, actor=tess
        )
        for _ in range(10):
            if runbooks.run_state(session, run).step.used_from == "verify-identity":
                break
            nxt = runner_view(session, run)["next"]
            record_answer(session, run, step=nxt["step"], reply=nxt["options"][0], actor=tess)
        assert runbooks.run_state(session, run).step.used_from == "verify-identity"
        return ticket.id


def test_the_assignee_changes_the_requester_and_sees_the_new_number(
    page: Page,
    db: Database,
    starter: None,  # noqa: F811
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    tess = make_staff()
    ticket_id = _ticket_at_the_identity_step(db, tess)
    sign_in_as(page, tess)
    page.goto(f"/tickets/{ticket_id}")
    card = page.locator("#ticket-requester")
    on_file = page.locator("#runner-on-file")
    expect(card).to_contain_text("Dana Lee")
    expect(on_file).to_have_text("On file Number on file for Dana Lee: 0161 555 0101")

    facts = page.locator("#facts")
    facts.get_by_text("Change requester").click()
    choice = facts.get_by_label("New requester")
    expect(choice.locator("option:checked")).to_have_text("Dana Lee")
    choice.select_option(label="Sam Patel (sam@harbour.example)")
    facts.get_by_role("button", name="Set requester").click()

    expect(card).to_contain_text("Sam Patel")
    expect(card).to_contain_text("07700 900456")
    expect(card).not_to_contain_text("0161 555 0101")
    expect(on_file).to_have_text("On file Number on file for Sam Patel: 07700 900456")
    expect(page.locator("#history")).to_contain_text(
        "Tess Tech changed the requester from Dana Lee to Sam Patel"
    )
    # Swapped in place by htmx: the page was not reloaded, and it is still so after a reload.
    assert page.url.endswith(f"/tickets/{ticket_id}")
    page.reload()
    expect(on_file).to_have_text("On file Number on file for Sam Patel: 07700 900456")
    assert browser_log.errors == []


def test_an_l1_who_is_not_the_assignee_gets_no_control_and_the_post_is_refused(
    page: Page,
    db: Database,
    starter: None,  # noqa: F811
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    tess = make_staff()
    omar = make_staff("Omar Other")
    ticket_id = _ticket_at_the_identity_step(db, tess)
    sign_in_as(page, omar)
    page.goto(f"/tickets/{ticket_id}")
    facts = page.locator("#facts")
    expect(facts).to_contain_text("Dana Lee")
    expect(facts.get_by_text("Change requester")).to_have_count(0)
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = page.request.post(
        f"/tickets/{ticket_id}/requester",
        form={"csrf_token": csrf or "", "requester": "none"},
        max_redirects=0,
    )
    assert refused.status == 403
    assert "only the ticket&#39;s assignee, L2" in refused.text()
    page.reload()
    expect(page.locator("#ticket-requester")).to_contain_text("Dana Lee")


def test_without_javascript_the_form_clears_the_requester_and_comes_back(
    browser_page_no_js: Page,
    db: Database,
    starter: None,  # noqa: F811
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    page = browser_page_no_js
    senior = make_staff("Lee Senior", level="L2")
    ticket_id = _ticket_at_the_identity_step(db, make_staff())
    sign_in_as(page, senior)
    page.goto(f"/tickets/{ticket_id}")
    facts = page.locator("#facts")
    facts.get_by_text("Change requester").click()
    facts.get_by_label("New requester").select_option(label="No requester")
    facts.get_by_role("button", name="Set requester").click()
    page.wait_for_url(f"**/tickets/{ticket_id}#facts")
    expect(page.locator("#ticket-requester")).to_have_text("—")
    expect(page.locator("#runner-on-file")).to_contain_text("No requester on this ticket")
    expect(page.locator("#history")).to_contain_text(
        "Lee Senior cleared the requester (was Dana Lee)"
    )
