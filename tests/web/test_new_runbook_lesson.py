"""A lesson saying "a new runbook is needed", across roles in the browser: a technician on a
ticket no runbook covers records it, the owner sees it on the dashboard, a maintainer writes
the runbook folding it in, and it leaves the pending list."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from franchise.accounts.service import get_staff
from franchise.ask.service import ask_owner
from franchise.db import Database
from franchise.flows.opening import open_ticket
from franchise.lessons.models import Lesson
from franchise.lessons.service import add_lesson, list_lessons
from franchise.runbooks import service as runbooks
from franchise.tickets.service import create_ticket
from tests.web.conftest import PHONE, BrowserLog, LiveServer, Member
from tests.web.test_vpn_scenario import starter  # noqa: F401 - fixture used by name

FITS = "document.documentElement.scrollWidth <= window.innerWidth"
ZEBRA = "Warehouse Zebra label printer prints blank shipping labels"
LESSON = "Thermal label printers need their own runbook: ribbon side, media calibration, darkness"
LABEL_PRINTER = """\
format: 2
key: label-printer-blank
title: Label printer prints blank labels
category: printer
status: draft
description: Thermal label printers (Zebra, Dymo) that feed labels but print nothing.
start: ribbon
steps:
  ribbon:
    kind: check
    text: Is the ribbon loaded ink side out, and is it a thermal-transfer printer?
    options: {"No: reloaded it, and a test label prints": fixed, "Yes, or not sure": to-l2}
  fixed: {kind: resolve, text: Reloaded the ribbon; a test label prints.}
  to-l2: {kind: escalate, to: L2, text: Hand over with a photo of the ribbon path.}
"""


def test_a_technician_asks_for_a_runbook_and_a_maintainer_writes_it(
    page: Page,
    db: Database,
    starter: None,  # noqa: F811
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    tech = make_staff("Tess Tech")
    senior = make_staff("Sam Senior", level="L2")
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    with db.unit_of_work() as session:
        ticket = open_ticket(session, title=ZEBRA)[0]
        # The office-printer runbook is attached on opening: the technician rules it out below.
        assert ticket.runbook_key == "printer-problem"
        ticket_id = ticket.id

    # The technician: the office-printer runbook does not fit, and no other runbook covers it.
    sign_in_as(page, tech)
    page.goto(f"/tickets/{ticket_id}")
    lesson = page.locator("#lesson")
    choice = lesson.get_by_label("Runbook")
    expect(choice).to_have_value("printer-problem")
    expect(lesson.locator(".tp-lesson-hint")).to_have_count(0)
    runbook_panel = page.locator("#runbook")
    runbook_panel.get_by_text("Replace or detach").click()
    runbook_panel.get_by_label("Why no runbook covers this ticket").fill(
        "printer-problem is for office printers; this is a thermal label printer"
    )
    runbook_panel.get_by_role("button", name="Detach").click()
    expect(runbook_panel).to_contain_text("No runbook covers this ticket")
    # With nothing covering the ticket, "a new runbook is needed" is the natural choice.
    expect(choice).to_have_value("")
    expect(choice.locator("option:checked")).to_have_text("A new runbook is needed")
    expect(choice.locator("optgroup", has_text="A new runbook")).to_have_attribute(
        "label", "No runbook fits this ticket"
    )
    expect(lesson.locator(".tp-lesson-hint")).to_contain_text(
        "No runbook covers this ticket, so the lesson asks for a new one"
    )
    lesson.get_by_label("What did this ticket teach us?").fill(LESSON)
    lesson.get_by_role("button", name="Add lesson").click()
    expect(lesson.get_by_role("status")).to_contain_text(
        "a new runbook is needed for tickets like this one"
    )
    expect(lesson.locator(".tp-lessons li")).to_have_count(1)
    expect(lesson.locator(".tp-lessons")).to_contain_text(LESSON)
    expect(lesson.locator(".tp-lessons")).to_contain_text("New runbook needed · Pending")
    with db.unit_of_work() as session:
        [row] = list_lessons(session, pending_only=True)
        assert (row["runbook"], row["ticket_id"], row["author"]) == (None, ticket_id, "Tess Tech")
        lesson_id = row["id"]

    # The owner: the request is listed beside "write next" and among the pending lessons.
    sign_in_as(page, owner)
    page.goto("/dashboard")
    line = f"New runbook needed: {ZEBRA} (#{ticket_id}) — {LESSON}"
    requests = page.locator("#coverage .dash-requests li")
    expect(requests).to_have_count(1)
    expect(requests.first).to_contain_text(line)
    expect(requests.first.get_by_role("link", name="Write it")).to_have_attribute(
        "href", f"/runbooks/new?lesson={lesson_id}"
    )
    pending = page.locator("#lessons .dash-lessons tbody tr")
    expect(pending).to_have_count(1)
    expect(pending.first.locator("td[data-label='Lesson']")).to_contain_text(line)
    expect(pending.first.locator("td[data-label='Ticket']")).to_have_text(f"#{ticket_id}")
    # Loaded at phone width: the chart's canvas only follows a resize after a moment.
    page.set_viewport_size(PHONE)
    page.reload()
    expect(requests.first).to_be_visible()
    assert page.evaluate(FITS)
    page.set_viewport_size({"width": 1280, "height": 800})

    # The maintainer (L2): the runbook library says a runbook is asked for; the editor lists
    # the lesson, and saving folds it into revision 1.
    sign_in_as(page, senior)
    page.goto("/runbooks")
    asked = page.locator(".alert-warn", has_text="ask")
    expect(asked).to_contain_text("1 lesson from tickets no runbook fits asks for a new runbook")
    asked.get_by_role("link", name="write it").click()
    expect(page).to_have_url(re.compile(r"/runbooks/new$"))
    lessons = page.locator("fieldset.lessons")
    expect(lessons.locator("legend")).to_have_text(
        "Lessons asking for a new runbook: tick those this runbook answers"
    )
    expect(lessons).to_contain_text(f"ticket #{ticket_id} {ZEBRA}")
    page.wait_for_load_state()
    # Saved untouched, the template would close the lesson with a runbook nobody wrote.
    lessons.get_by_label(re.compile("Thermal label printers need their own runbook")).check()
    page.get_by_label("Note (what changed and why)").fill("First go")
    page.get_by_role("button", name="Save revision").click()
    expect(page.locator(".editor-error")).to_contain_text(
        "Not saved: this is still the template's key and title and match keyword 'example'"
    )
    lessons = page.locator("fieldset.lessons")
    page.locator("#editor-source").fill(LABEL_PRINTER)
    expect(page.locator("#editor-lint")).to_contain_text("No problems")
    lessons.get_by_label(re.compile("Thermal label printers need their own runbook")).check()
    page.get_by_label("Note (what changed and why)").fill("Written for the warehouse printers")
    page.get_by_role("button", name="Save revision").click()
    expect(page).to_have_url(re.compile(r"/runbooks/label-printer-blank\?saved=1$"))
    history = page.locator(".history-table")
    expect(history).to_contain_text("Written for the warehouse printers")
    expect(history).to_contain_text(f"Lesson #{lesson_id}: {LESSON}")
    page.goto("/runbooks")
    expect(page.locator(".alert-warn", has_text="ask")).to_have_count(0)

    # Applied: off the owner's pending list and off "asked for by the team".
    sign_in_as(page, owner)
    page.goto("/dashboard")
    expect(page.locator("#lessons")).to_contain_text("No pending lessons.")
    expect(page.locator("#coverage .dash-requests")).to_have_count(0)
    # The ticket shows where its lesson went.
    page.goto(f"/tickets/{ticket_id}")
    expect(page.locator("#lesson .tp-lessons")).to_contain_text(
        "New runbook label-printer-blank · Applied"
    )
    with db.unit_of_work() as session:
        applied = session.get(Lesson, lesson_id)
        assert applied is not None and applied.state == "applied"
        row_ = runbooks.get_runbook(session, "label-printer-blank")
        first = runbooks.revision(session, row_, 1)
        assert (applied.runbook_id, applied.revision_id) == (row_.id, first.id)
        assert first.ticket_ids == [str(ticket_id)]
        assert first.author_id == senior.id
    assert browser_log.dialogs == []
    assert browser_log.errors == []


def test_the_owners_answer_on_an_uncovered_ticket_waits_as_a_runbook_to_write(
    page: Page,
    live: LiveServer,
    db: Database,
    starter: None,  # noqa: F811
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    senior = make_staff("Sam Senior", level="L2")
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    with db.unit_of_work() as session:
        ticket = create_ticket(session, title="Client asks us to move their domain registrar")
        asked = ask_owner(
            session,
            ticket=ticket,
            by=get_staff(session, senior.id),
            reason="technical_decision",
            question="Do we move domains between registrars for clients, and at what price?",
            settings=live.app.state.settings,
        )
        assert asked.outcome == "interruption", asked.answer.text
        # A printer ticket whose runbook the technician judged a poor fit.
        printer = create_ticket(session, title="Label printer feeds two labels", category="printer")
        feed = add_lesson(session, ticket=printer.id, runbook=None, text="Needs calibration")
        ticket_id, ask_id, feed_id = ticket.id, asked.contact_id, feed.id

    sign_in_as(page, owner)
    page.goto("/dashboard")
    item = page.locator(f"#ask-{ask_id}")
    item.get_by_label("Your answer").fill("Yes, as a one-off project: two hours per domain.")
    item.get_by_role("button", name="Send answer").click()
    expect(page.locator(f"#ask-{ask_id}")).to_have_count(0)
    with db.unit_of_work() as session:
        [drafted] = list_lessons(session, ticket_id=ticket_id)
        assert (drafted["runbook"], drafted["author"]) == (None, "Olivia Owner")
    request = page.locator(f"#coverage .dash-requests li[data-lesson='{drafted['id']}']")
    expect(request).to_contain_text(
        f"New runbook needed: Client asks us to move their domain registrar (#{ticket_id}) — "
        "Asked the owner: Do we move domains between registrars"
    )
    request.get_by_role("link", name="Write it").click()
    # The editor opens with that lesson ticked, the other request offered but not ticked.
    expect(page.get_by_label(re.compile("Asked the owner: Do we move domains"))).to_be_checked()
    expect(page.get_by_label(re.compile("Needs calibration"))).not_to_be_checked()
    # A request from a ticket with a category starts the runbook in that category.
    page.goto(f"/runbooks/new?lesson={feed_id}")
    expect(page.locator("#editor-source")).to_have_value(re.compile(r"\ncategory: printer\n"))
    expect(page.get_by_label(re.compile("Needs calibration"))).to_be_checked()
    assert browser_log.errors == []
