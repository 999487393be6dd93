"""The technician ticket page and the queue filters that lead to it, in the browser."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from franchise.accounts.service import get_staff
from franchise.db import Database
from franchise.orgsettings.service import set_setting
from franchise.tickets import lifecycle
from franchise.tickets.service import get_ticket
from tests.web.conftest import SCREENSHOTS, BrowserLog, LiveServer, Member, QueueData
from tests.web.test_vpn_scenario import (  # noqa: F401 - fixtures used by name
    CONTACT,
    Mailbox,
    answer,
    mailbox,
    make_vpn_ticket,
    runner,
    start_vpn_run,
    starter,
)

FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def test_an_action_outside_the_l1_boundary_waits_on_l2_and_the_queue_shows_it(
    page: Page,
    starter: None,  # noqa: F811
    queue_data: QueueData,
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    sign_in_as(page, queue_data.tech)
    page.goto(f"/tickets/{queue_data.ticket_ids['printer']}")
    suggestion = page.locator(".tp-suggestion", has_text="printer-problem")
    suggestion.get_by_label("Printer name or IP address").fill("RECEPTION-MFP 10.0.4.20")
    suggestion.get_by_role("button", name="Start this runbook").click()
    answer(page, "scope", "Everyone who uses this printer")
    answer(page, "printer-status", "Reachable and no errors")
    answer(page, "print-server", "Spooler stopped or jobs stuck")
    approval = runner(page).locator(".tp-approval")
    expect(approval).to_contain_text(
        re.compile(r"Waiting for approval #\d+ from L2 \(times out at \d\d:\d\d( on \d\d \w{3})?\)")
    )
    expect(approval).to_contain_text("impact medium")
    for option in ("Printing again", "Spooler crashes or stops again"):
        expect(runner(page).get_by_role("button", name=option)).to_be_disabled()
    expect(page.locator("#ticket-head .badges")).to_contain_text("Waiting on approval")

    page.goto("/queue")
    views = page.get_by_role("group", name="Which tickets")
    views.get_by_text("Waiting on approval", exact=True).click()
    titles = page.locator(".queue-table .title-cell a")
    expect(titles).to_have_text(["Reception printer offline again"])
    assert "view=approval" in page.url
    views.get_by_text("Escalated", exact=True).click()
    expect(titles).to_have_text(["Nightly backup failed on FS01"])
    views.get_by_text("All", exact=True).click()
    page.get_by_label("Search").fill(f"#{queue_data.ticket_ids['mfa']}")
    expect(titles).to_have_text(["New phone, MFA prompts not arriving"])
    assert browser_log.errors == []


def test_queue_filters_fit_a_phone(
    phone_page: Page, queue_data: QueueData, sign_in_as: Callable[[Page, Member], None]
) -> None:
    sign_in_as(phone_page, queue_data.tech)
    phone_page.goto("/queue")
    views = phone_page.get_by_role("group", name="Which tickets")
    expect(views.get_by_text("Waiting on approval", exact=True)).to_be_visible()
    expect(views.get_by_text("Escalated", exact=True)).to_be_visible()
    assert phone_page.evaluate(FITS)


def test_step_back_retracts_the_last_answer_and_the_history_keeps_it(
    page: Page,
    make_staff: Callable[..., Member],
    make_vpn_ticket: Callable[..., int],  # noqa: F811
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    sign_in_as(page, make_staff())
    page.goto(f"/tickets/{make_vpn_ticket()}")
    start_vpn_run(page)
    answer(page, "scope", "Only this user")
    answer(page, "client-error", "Timeout or gateway unreachable", note="Picked by mistake")
    expect(runner(page).locator("input[name=step]")).to_have_value("user-network")
    runner(page).get_by_role("button", name="Step back").click()
    expect(runner(page).locator("input[name=step]")).to_have_value("client-error")
    expect(runner(page).locator(".tp-path li")).to_have_count(1)
    expect(page.locator("#history")).to_contain_text(
        "answered client-error: Timeout or gateway unreachable (later stepped back)"
    )
    answer(page, "client-error", "Credentials rejected or login failed")
    expect(runner(page).locator(".tp-step-text")).to_contain_text("locked out")
    # Halfway through the run, resolving asks why the ticket is done before any ending.
    page.reload()
    expect(page.locator("#done").get_by_label("Why is the ticket done anyway?")).to_be_visible()
    expect(page.locator("#done")).to_contain_text("stopped at step")


def test_l2_may_resolve_with_the_done_list_unticked_giving_a_reason(
    page: Page,
    make_staff: Callable[..., Member],
    make_vpn_ticket: Callable[..., int],  # noqa: F811
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    sign_in_as(page, make_staff("Sam Senior", level="L2"))
    page.goto(f"/tickets/{make_vpn_ticket()}")
    start_vpn_run(page)
    done = page.locator("#done")
    expect(done.get_by_role("button", name="Resolve ticket")).to_be_disabled()
    done.get_by_text("Resolve anyway (L2 override)").click()
    done.get_by_label("Why it is done without the unticked items").fill(
        "User left the company today; access removed instead."
    )
    done.get_by_role("button", name="Resolve with override").click()
    expect(page.locator("#ticket-head .badges")).to_contain_text("Resolved")
    expect(page.locator("#history")).to_contain_text("resolved with the done list unticked")
    expect(page.locator("#history")).to_contain_text("User left the company today")


def test_ask_the_owner_outside_a_drill_is_answered_by_the_runbook_step(
    page: Page,
    make_staff: Callable[..., Member],
    make_vpn_ticket: Callable[..., int],  # noqa: F811
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    sign_in_as(page, make_staff())
    page.goto(f"/tickets/{make_vpn_ticket()}")
    ask = page.locator("#ask")
    expect(ask.locator(".tp-drill")).to_have_count(0)
    ask.get_by_label("Reason").select_option("escalation")
    ask.get_by_label("Question").fill("Can I hand this to the owner?")
    ask.get_by_role("button", name="Ask the owner").click()
    answer_box = ask.get_by_role("status")
    expect(answer_box).to_contain_text("Answered without the owner")
    expect(answer_box).to_contain_text("Do step 'scope'")
    expect(ask.get_by_label("Question")).to_have_value("")
    expect(page.locator("#history")).to_contain_text("deflection")


EDIT = "Hello Dana,\n\nWe rang you at 10:15 and left a voicemail about the VPN."


def test_a_send_without_smtp_keeps_the_edited_text_and_says_what_to_do(
    page: Page,
    make_staff: Callable[..., Member],
    make_vpn_ticket: Callable[..., int],  # noqa: F811
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    sign_in_as(page, make_staff())
    page.goto(f"/tickets/{make_vpn_ticket()}")
    composer = page.locator("#composer")
    expect(composer.get_by_label("Template")).to_have_value("request-received")
    composer.locator("textarea[name=body]").fill(EDIT)
    composer.get_by_role("button", name="Send e-mail").click()
    alert = composer.get_by_role("alert")
    expect(alert).to_contain_text("E-mail sending is not set up yet")
    expect(alert).to_contain_text("An admin can set it up on the Settings page")
    expect(alert).to_contain_text("copy the message below and send it from your own mail")
    # The technical detail comes second, for whoever sets it up.
    expect(alert.locator("li")).to_contain_text("FRANCHISE_SMTP_HOST")
    expect(alert.locator("p")).not_to_contain_text("FRANCHISE_SMTP_HOST")
    # What was written and chosen is still there.
    expect(composer.locator("textarea[name=body]")).to_have_value(EDIT)
    expect(composer.get_by_label("Template")).to_have_value("request-received")
    # Given back as an edit: switching the template still asks before replacing it.
    composer.get_by_label("Template").select_option("progress-update")
    expect(composer.get_by_label("Template")).to_have_value("request-received")
    expect(composer.locator("textarea[name=body]")).to_have_value(EDIT)
    # Another panel's action leaves the message being written alone.
    page.locator("#facts").get_by_role("button", name="Assign to me").click()
    expect(page.locator("#history")).to_contain_text("assigned it to Tess Tech")
    expect(composer.locator("textarea[name=body]")).to_have_value(EDIT)


def test_without_javascript_a_failed_send_keeps_the_edited_text(
    browser_page_no_js: Page,
    make_staff: Callable[..., Member],
    make_vpn_ticket: Callable[..., int],  # noqa: F811
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    page = browser_page_no_js
    sign_in_as(page, make_staff())
    page.goto(f"/tickets/{make_vpn_ticket()}")
    composer = page.locator("#composer")
    # No Copy text button without JavaScript: the text in the box can be selected instead.
    expect(composer.get_by_role("button", name="Copy text")).to_have_count(0)
    # Choosing another template does not reload the text without JavaScript: the unedited
    # text of the first is not sent under the second's subject, the second's own text is.
    composer.get_by_label("Template").select_option("progress-update")
    composer.get_by_role("button", name="Send e-mail").click()
    expect(composer.get_by_role("alert")).to_contain_text("E-mail sending is not set up yet")
    expect(composer.get_by_label("Template")).to_have_value("progress-update")
    expect(composer.locator("textarea[name=body]")).to_have_value(re.compile("A quick update"))
    composer.locator("textarea[name=body]").fill(EDIT)
    with page.expect_response(lambda r: r.url.endswith("/message")) as sent:
        composer.get_by_role("button", name="Send e-mail").click()
    assert sent.value.status == 422
    expect(composer.get_by_role("alert")).to_contain_text("E-mail sending is not set up yet")
    expect(composer.locator("textarea[name=body]")).to_have_value(EDIT)


def test_copy_text_puts_the_subject_and_the_message_on_the_clipboard(
    page: Page,
    live: LiveServer,
    make_staff: Callable[..., Member],
    make_vpn_ticket: Callable[..., int],  # noqa: F811
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    sign_in_as(page, make_staff())
    ticket_id = make_vpn_ticket()
    page.goto(f"/tickets/{ticket_id}")
    composer = page.locator("#composer")
    composer.locator("textarea[name=body]").fill(EDIT)
    copy = composer.get_by_role("button", name="Copy text")
    copy.click()
    expect(composer.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    subject = composer.locator("#message-subject").inner_text()
    assert f"[#{ticket_id}]" in subject
    assert copied == f"Subject: {subject}\n\n{EDIT}"
    expect(copy).to_have_text("Copy text", timeout=5000)
    assert browser_log.errors == []


def test_switching_the_template_asks_before_replacing_an_edit(
    page: Page,
    make_staff: Callable[..., Member],
    make_vpn_ticket: Callable[..., int],  # noqa: F811
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    sign_in_as(page, make_staff())
    page.goto(f"/tickets/{make_vpn_ticket()}")
    composer = page.locator("#composer")
    template = composer.get_by_label("Template")
    body = composer.locator("textarea[name=body]")
    subject = composer.locator("#message-subject")
    # Unedited: the text follows the template without a question.
    expect(template).to_have_value("request-received")
    template.select_option("progress-update")
    expect(subject).to_contain_text("Update:")
    assert browser_log.dialogs == []
    body.fill(EDIT)
    # Edited: the question comes; declined (the test browser dismisses it), nothing changes.
    template.select_option("request-received")
    expect(template).to_have_value("progress-update")
    expect(body).to_have_value(EDIT)
    expect(subject).to_contain_text("Update:")
    assert browser_log.dialogs == [
        "Replace your edited message with this template's text? Your changes will be lost."
    ]
    # Accepted: the new template's text replaces the edit.
    page.evaluate("window.confirm = () => true")
    template.select_option("request-received")
    expect(subject).to_contain_text("We've received your request")
    expect(body).not_to_have_value(EDIT)
    expect(body).to_have_value(re.compile(r"Thank you for getting in touch"))
    assert browser_log.errors == []


def test_a_resolved_ticket_is_reopened_and_the_history_says_so(
    page: Page,
    make_staff: Callable[..., Member],
    make_vpn_ticket: Callable[..., int],  # noqa: F811
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    sign_in_as(page, make_staff())
    page.goto(f"/tickets/{make_vpn_ticket()}")
    done = page.locator("#done")
    badges = page.locator("#ticket-head .badges")
    done.get_by_label("was never started").fill("The client's certificate renewed itself")
    done.get_by_role("button", name="Resolve ticket").click()
    expect(badges).to_contain_text("Resolved")
    expect(page.locator("#facts").get_by_label("Ticket status")).to_have_count(0)
    done.get_by_label("Why reopen it?").fill("Dana says the VPN drops again")
    done.get_by_role("button", name="Reopen ticket").click()
    expect(done.get_by_role("status")).to_contain_text("Reopened: the ticket is new again.")
    expect(badges).to_contain_text("New")
    expect(badges).not_to_contain_text("Resolved")
    history = page.locator("#history")
    expect(history).to_contain_text("reopened the ticket")
    expect(history).to_contain_text("Dana says the VPN drops again")
    expect(history).to_contain_text("changed status from resolved to new")
    # Open again: the status control and resolving are back.
    expect(page.locator("#facts").get_by_label("Ticket status")).to_have_value("new")
    expect(done.get_by_role("button", name="Resolve ticket")).to_be_visible()
    expect(done.get_by_role("button", name="Reopen ticket")).to_have_count(0)
    assert browser_log.errors == []


def test_a_manager_reopens_without_javascript(
    browser_page_no_js: Page,
    db: Database,
    make_staff: Callable[..., Member],
    make_vpn_ticket: Callable[..., int],  # noqa: F811
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    page = browser_page_no_js
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    ticket_id = make_vpn_ticket()
    with db.unit_of_work() as session:
        ticket = get_ticket(session, ticket_id)
        lifecycle.assign(session, ticket, get_staff(session, owner.id), by=None)
        lifecycle.resolve_ticket(
            session, ticket, by=get_staff(session, owner.id), skip_reason="Fixed by the client"
        )
    sign_in_as(page, owner)
    page.goto(f"/tickets/{ticket_id}")
    page.locator("#done").get_by_role("button", name="Reopen ticket").click()
    assert page.url.endswith(f"/tickets/{ticket_id}#done")
    expect(page.locator("#ticket-head .badges")).to_contain_text("In progress")
    expect(page.locator("#history")).to_contain_text("Olivia Owner reopened the ticket")


def test_resolving_e_mails_the_client_when_the_organisation_sends_it_on_resolve(
    page: Page,
    db: Database,
    make_staff: Callable[..., Member],
    make_vpn_ticket: Callable[..., int],  # noqa: F811
    sign_in_as: Callable[[Page, Member], None],
    mailbox: Mailbox,  # noqa: F811
    browser_log: BrowserLog,
) -> None:
    with db.unit_of_work() as session:
        set_setting(session, "auto_send_resolved_message", "on")
    sign_in_as(page, make_staff())
    ticket_id = make_vpn_ticket()
    page.goto(f"/tickets/{ticket_id}")
    panel = page.locator("#escalation")
    expect(panel.locator(".verdict")).to_have_text("Escalation allowed: No")
    done = page.locator("#done")
    # The VPN runbook was never started on this ticket: resolving says why.
    done.get_by_label("was never started").fill("The client's certificate renewed itself")
    done.get_by_role("button", name="Resolve ticket").click()
    expect(done.get_by_role("status")).to_contain_text(f"Resolved message sent to {CONTACT}")
    expect(page.locator("#ticket-head .badges")).to_contain_text("Resolved")
    # Resolved: no red "Escalation allowed: No", and nothing to escalate.
    expect(panel.locator(".verdict")).to_have_text("Resolved: no escalation needed")
    expect(panel).not_to_have_class(re.compile(r"allowed-no"))
    expect(panel.get_by_role("button")).to_have_count(0)
    expect(page.locator("#history")).to_contain_text(f"e-mailed {CONTACT}")
    [sent] = mailbox.messages
    assert sent["To"] == CONTACT
    assert str(sent["Subject"]) == f"[#{ticket_id}] Your VPN connection is working again"
    assert browser_log.errors == []


def test_resolving_without_smtp_still_resolves_and_says_why_no_e_mail_went(
    page: Page,
    db: Database,
    make_staff: Callable[..., Member],
    make_vpn_ticket: Callable[..., int],  # noqa: F811
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    with db.unit_of_work() as session:
        set_setting(session, "auto_send_resolved_message", "on")
    sign_in_as(page, make_staff())
    page.goto(f"/tickets/{make_vpn_ticket()}")
    done = page.locator("#done")
    # The VPN runbook was never started on this ticket: resolving says why.
    done.get_by_label("was never started").fill("The client's certificate renewed itself")
    done.get_by_role("button", name="Resolve ticket").click()
    expect(done.get_by_role("alert")).to_contain_text("Resolved message not sent")
    expect(done.get_by_role("alert")).to_contain_text("FRANCHISE_SMTP_HOST")
    # Said first in the page's terms: where an admin sets it up.
    expect(done.get_by_role("alert")).to_contain_text("on the Settings page (Client e-mail)")
    expect(page.locator("#ticket-head .badges")).to_contain_text("Resolved")
    expect(page.locator("#history")).to_contain_text("did not e-mail the client")


def test_the_page_works_without_javascript(
    browser_page_no_js: Page,
    make_staff: Callable[..., Member],
    make_vpn_ticket: Callable[..., int],  # noqa: F811
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    page = browser_page_no_js
    sign_in_as(page, make_staff())
    ticket_id = make_vpn_ticket()
    page.goto(f"/tickets/{ticket_id}")
    start_vpn_run(page)
    assert page.url.endswith(f"/tickets/{ticket_id}#runner")
    answer(page, "scope", "Only this user", note="Plain form post")
    expect(runner(page).locator(".tp-path-note")).to_have_text("Plain form post")
    # The map refuses escalation mid-run, so the panel offers no button to be refused with.
    panel = page.locator("#escalation")
    expect(panel.locator(".verdict")).to_have_text("Escalation allowed: No")
    expect(panel.get_by_role("button")).to_have_count(0)
    # A refusal still renders as a page: the same step answered meanwhile in another tab.
    other = page.context.new_page()
    other.goto(f"/tickets/{ticket_id}")
    answer(other, "client-error", "Credentials rejected or login failed")
    other.close()
    with page.expect_response(f"**/tickets/{ticket_id}/run/answer") as refused:
        runner(page).get_by_role(
            "button", name="Permission denied, no matching policy or user not allowed"
        ).click()
    assert refused.value.status == 409
    expect(runner(page).get_by_role("alert")).to_contain_text("already answered")


def test_actions_without_the_csrf_token_are_refused(
    page: Page,
    make_staff: Callable[..., Member],
    make_vpn_ticket: Callable[..., int],  # noqa: F811
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    sign_in_as(page, make_staff())
    ticket_id = make_vpn_ticket()
    page.goto(f"/tickets/{ticket_id}")
    posts: list[tuple[str, dict[str, str | float | bool]]] = [
        ("run", {"runbook": "vpn-auth-failure", "input_id": "affected_user", "input_value": "x"}),
        ("resolve", {}),
        ("reopen", {"reason": "x"}),
        ("ask", {"reason": "other", "question": "Hello?"}),
    ]
    for path, form in posts:
        response = page.request.post(f"/tickets/{ticket_id}/{path}", form=form, max_redirects=0)
        assert response.status == 403, path
    page.reload()
    expect(runner(page).locator(".tp-suggestion").first).to_be_visible()
    expect(page.locator("#history")).not_to_contain_text("asked the owner")


def test_ticket_page_mid_run_fits_a_phone(
    phone_page: Page,
    make_staff: Callable[..., Member],
    make_vpn_ticket: Callable[..., int],  # noqa: F811
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    page = phone_page
    sign_in_as(page, make_staff())
    page.goto(f"/tickets/{make_vpn_ticket()}")
    assert page.evaluate(FITS)
    start_vpn_run(page)
    answer(page, "scope", "Only this user")
    answer(page, "client-error", "Certificate invalid, expired or not found")
    expect(runner(page).locator(".tp-approval")).to_contain_text("Approved by policy")
    # On a phone the escalation answer comes right after the description, before the runner.
    escalation_top = page.locator("#escalation").bounding_box()
    runner_top = runner(page).bounding_box()
    assert escalation_top is not None and runner_top is not None
    assert escalation_top["y"] < runner_top["y"]
    assert page.evaluate(FITS)
    # One screen, not the whole (long) page: what the technician sees while working a step.
    page.locator("#runner .tp-step").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "ticket-phone.png"))
    assert browser_log.errors == []
