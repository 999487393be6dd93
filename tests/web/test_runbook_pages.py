"""The runbook library, the flowchart page, the editor with lint beside the line, and diffs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from franchise.accounts.service import get_staff
from franchise.db import Database
from franchise.lessons.models import Lesson
from franchise.lessons.service import add_lesson
from franchise.runbooks import service as runbooks
from franchise.tickets.models import Ticket
from tests.web.conftest import BrowserLog, LiveServer, Member, QueueData, screenshot

FITS = "document.documentElement.scrollWidth <= window.innerWidth"
VPN = "vpn-auth-failure"

HOSTILE = """\
key: hostile-text
title: "<script>alert('title')</script> {{ 7*7 }}"
category: printer
status: draft
description: "<img src=x onerror=alert('desc')>"
match: {keywords: [hostile]}
inputs: [{id: who, label: "<b>Who</b> {{ 7*7 }}", required: true}]
start: first
steps:
  first:
    kind: check
    text: "<script>alert('step')</script> Is it {{ 7*7 }}?"
    options: {"<i>Yes</i>": fixed, "No {{ 7*7 }}": hand-over}
  fixed: {kind: resolve, text: Fixed.}
  hand-over: {kind: escalate, to: L2, text: Hand over.}
done_when: ["<u>Checked</u> {{ 7*7 }}"]
"""


@pytest.fixture
def library(db: Database, queue_data: QueueData) -> QueueData:
    """The starter runbooks, plus the queue's VPN and backup tickets filed under the VPN runbook."""
    with db.unit_of_work() as session:
        runbooks.load_starter(session)
        for name in ("vpn", "backup"):
            ticket = session.get(Ticket, queue_data.ticket_ids[name])
            assert ticket is not None
            ticket.runbook_key = VPN
        runbooks.start_run(session, runbooks.get_runbook(session, VPN))
    return queue_data


@pytest.fixture
def http_as(
    live: LiveServer, session_cookie: Callable[[Member], dict[str, str]]
) -> Iterator[Callable[[Member], httpx.Client]]:
    clients: list[httpx.Client] = []

    def make(member: Member) -> httpx.Client:
        client = httpx.Client(
            base_url=live.url, follow_redirects=False, timeout=10, cookies=session_cookie(member)
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _csrf(client: httpx.Client) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/runbooks").text)
    assert found is not None
    return found.group(1)


def _replace_source(page: Page, old: str, new: str) -> None:
    # A click that navigates returns before htmx has wired up the textarea; typing earlier
    # would not be checked live (saving still checks it).
    page.wait_for_load_state()
    box = page.locator("#editor-source")
    text = box.input_value()
    assert old in text
    box.fill(text.replace(old, new, 1))


def test_library_lists_runbooks_with_runs_and_escalation_rate(
    page: Page, library: QueueData, sign_in_as: Callable[[Page, Member], None]
) -> None:
    sign_in_as(page, library.tech)
    page.goto("/queue")
    page.locator(".side-nav").get_by_role("link", name="Runbooks").click()
    rows = page.locator(".runbook-table tbody tr")
    expect(rows).to_have_count(10)
    vpn = rows.filter(has_text="VPN won't connect")
    expect(vpn.locator("td[data-label='Category']")).to_have_text("VPN")
    expect(vpn.locator("td[data-label='Status']")).to_have_text("Validated")
    expect(vpn.locator("td[data-label='Runs']")).to_have_text("1")
    # Two tickets used the VPN runbook; the backup one went up to L2.
    expect(vpn.locator("td[data-label='Escalation rate']")).to_contain_text("50%")
    expect(vpn.locator("td[data-label='Escalation rate']")).to_contain_text("of 2")
    printer = rows.filter(has_text="printer-problem")
    expect(printer.locator("td[data-label='Escalation rate']")).to_have_text("no tickets")
    # L1 technicians read runbooks; they do not get an editor.
    expect(page.get_by_role("button", name="New runbook")).to_have_count(0)


def test_runbook_page_draws_the_flowchart_with_one_node_per_step(
    page: Page,
    library: QueueData,
    sign_in_as: Callable[[Page, Member], None],
    db: Database,
    browser_log: BrowserLog,
) -> None:
    with db.unit_of_work() as session:
        definition = runbooks.definition(session, runbooks.get_runbook(session, VPN))
    sign_in_as(page, library.tech)
    page.goto("/runbooks")
    page.get_by_role("link", name="VPN won't connect (authentication failure)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(definition.title)
    chart = page.locator(".flowchart-scroll svg.flowchart")
    expect(chart.locator("g.node")).to_have_count(len(definition.steps))
    expect(chart.locator("g.node.kind-escalate")).to_have_count(
        sum(1 for s in definition.steps.values() if s.kind == "escalate")
    )
    expect(chart.locator("path.edge")).to_have_count(
        sum(len(s.options) for s in definition.steps.values())
    )
    expect(chart.locator("g.edge-label", has_text="Only this user")).to_have_count(1)
    expect(page.locator(".done-list li")).to_have_count(len(definition.done_when))
    expect(page.get_by_text("Affected user (UPN)")).to_be_visible()
    expect(page.locator(".edge-cases").first).to_contain_text(definition.edge_cases[0].when)
    expect(page.locator(".history-table")).to_contain_text("starter library")
    expect(page.get_by_role("button", name="Edit", exact=True)).to_have_count(0)
    screenshot(page, "runbook.png")
    # A box links to the step's full text below the chart.
    chart.locator("g.node[data-step='dc-trouble'] a").click()
    expect(page.locator("#step-dc-trouble")).to_be_visible()
    assert browser_log.errors == []


def test_flowchart_scrolls_inside_its_box_on_a_phone(
    phone_page: Page, library: QueueData, sign_in_as: Callable[[Page, Member], None]
) -> None:
    sign_in_as(phone_page, library.tech)
    phone_page.goto(f"/runbooks/{VPN}")
    box = phone_page.locator(".flowchart-scroll")
    expect(box.locator("g.node").first).to_be_attached()
    assert phone_page.evaluate(FITS)
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")


def test_technician_may_read_but_not_edit_runbooks(
    page: Page,
    library: QueueData,
    sign_in_as: Callable[[Page, Member], None],
    http_as: Callable[[Member], httpx.Client],
    db: Database,
) -> None:
    sign_in_as(page, library.tech)
    response = page.goto(f"/runbooks/{VPN}/edit")
    assert response is not None
    assert response.status == 403
    expect(page.locator(".error-card")).to_contain_text("Only L2 staff")
    client = http_as(library.tech)
    with db.unit_of_work() as session:
        source = runbooks.current_source(session, runbooks.get_runbook(session, VPN))
    form = {
        "csrf_token": _csrf(client),
        "source": source.replace("title: VPN", "title: Hacked VPN"),
        "note": "sneaky",
        "expected_revision": "1",
        "intent": "save",
    }
    assert client.post(f"/runbooks/{VPN}/edit", data=form).status_code == 403
    assert client.post("/runbooks/new", data=form).status_code == 403
    with db.unit_of_work() as session:
        assert runbooks.get_runbook(session, VPN).current_revision == 1


def test_l2_edit_shows_lint_beside_the_line_then_saves_applying_a_lesson(
    page: Page,
    library: QueueData,
    sign_in_as: Callable[[Page, Member], None],
    db: Database,
    browser_log: BrowserLog,
) -> None:
    with db.unit_of_work() as session:
        lesson = add_lesson(
            session,
            ticket=library.ticket_ids["vpn"],
            runbook=VPN,
            text="Check the device clock before re-issuing a certificate",
            author=get_staff(session, library.tech.id),
        )
        other = add_lesson(
            session, ticket=library.ticket_ids["vpn"], runbook=VPN, text="Not this one"
        )
        lesson_id, other_id = lesson.id, other.id
    sign_in_as(page, library.senior)
    page.goto(f"/runbooks/{VPN}")
    expect(page.locator(".alert-warn")).to_contain_text("2 pending lessons")
    page.get_by_role("button", name="Edit", exact=True).click()
    expect(page.locator("#editor-lint")).to_contain_text("No problems")

    # An escalation to a level the map does not have: shown beside its line as you type.
    lines = page.locator("#editor-source").input_value().splitlines()
    # Runbook lint names the step's line for a bad level.
    line = lines.index("  dc-trouble:") + 1
    _replace_source(page, "    to: owner", "    to: L3")
    problem_row = page.locator(f"#editor-lint tr#L{line}")
    expect(problem_row).to_have_class(re.compile("has-problem"))
    expect(problem_row.locator(".msg")).to_contain_text("unknown level 'L3'")
    expect(page.locator("#editor-lint .lint-summary")).to_contain_text("1 problem")
    # The problem's line link puts the cursor on that line of the text.
    page.locator(".lint-jumps a", has_text=f"line {line}").click()
    selected = page.locator("#editor-source").evaluate(
        "el => el.value.slice(el.selectionStart, el.selectionEnd)"
    )
    assert selected == "  dc-trouble:"
    screenshot(page, "editor.png")
    page.get_by_label("Note (what changed and why)").fill("Clock check before renewing")
    page.get_by_role("button", name="Save revision").click()
    expect(page.locator(".editor-error")).to_contain_text("Not saved")
    expect(page.locator(f"#editor-lint tr#L{line} .msg")).to_contain_text("unknown level")
    with db.unit_of_work() as session:
        assert runbooks.get_runbook(session, VPN).current_revision == 1

    # Fixed, with a real change, folding in one of the two lessons.
    _replace_source(page, "    to: L3", "    to: owner")
    _replace_source(
        page,
        "Resync time (w32tm /resync via an RMM script)",
        "Resync time first (w32tm /resync via an RMM script)",
    )
    expect(page.locator("#editor-lint")).to_contain_text("No problems")
    page.get_by_label(re.compile("Check the device clock")).check()
    page.get_by_role("button", name="Save revision").click()
    expect(page.get_by_role("status")).to_contain_text("Saved revision 2")
    history = page.locator(".history-table")
    expect(history).to_contain_text("Clock check before renewing")
    expect(history).to_contain_text(f"Lesson #{lesson_id}")
    expect(page.locator(".alert-warn")).to_contain_text("1 pending lesson")
    with db.unit_of_work() as session:
        applied = session.get(Lesson, lesson_id)
        untouched = session.get(Lesson, other_id)
        assert applied is not None and untouched is not None
        assert applied.state == "applied"
        assert untouched.state == "pending"
        row = runbooks.get_runbook(session, VPN)
        assert row.current_revision == 2
        assert applied.revision_id == runbooks.revision(session, row, 2).id
        author = runbooks.revision(session, row, 2).author_id
        assert author == library.senior.id

    history.get_by_role("link", name="diff").click()
    expect(page).to_have_url(re.compile(r"/diff\?from=1&to=2$"))
    expect(page.locator("tr.diff-delete")).to_contain_text(
        "Resync time (w32tm /resync via an RMM script)"
    )
    expect(page.locator("tr.diff-add")).to_contain_text(
        "Resync time first (w32tm /resync via an RMM script)"
    )
    expect(page.locator(".diff-stats")).to_contain_text("+1")
    assert browser_log.errors == []


def test_a_save_from_a_stale_revision_is_a_conflict_that_keeps_the_text(
    page: Page, library: QueueData, sign_in_as: Callable[[Page, Member], None], db: Database
) -> None:
    sign_in_as(page, library.owner)
    page.goto(f"/runbooks/{VPN}/edit")
    _replace_source(page, "title: VPN won't connect", "title: VPN will not connect")
    expect(page.locator("#editor-lint")).to_contain_text("No problems")
    with db.unit_of_work() as session:
        row = runbooks.get_runbook(session, VPN)
        theirs = runbooks.current_source(session, row).replace("maintainer: L2", "maintainer: L1")
        runbooks.save_runbook(
            session, theirs, author=get_staff(session, library.senior.id), note="theirs"
        )
    page.get_by_label("Note (what changed and why)").fill("mine")
    page.get_by_role("button", name="Save revision").click()
    expect(page.locator(".editor-error")).to_contain_text("someone saved it meanwhile")
    conflict = page.locator(".conflict")
    expect(conflict).to_contain_text("Revision 2 was saved by Sam Senior")
    expect(conflict.locator("tr.diff-add")).to_contain_text("maintainer: L1")
    expect(page.locator("#editor-source")).to_have_value(re.compile("VPN will not connect"))
    # Having seen their change, saving again is deliberate and goes through.
    _replace_source(page, "maintainer: L2", "maintainer: L1")
    expect(page.locator("#editor-lint tr#L6")).to_contain_text("maintainer: L1")
    page.get_by_role("button", name="Save revision").click()
    expect(page.get_by_role("status")).to_contain_text("Saved revision 3")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "VPN will not connect (authentication failure)"
    )


def test_l2_creates_a_runbook_and_its_text_is_shown_escaped(
    page: Page,
    library: QueueData,
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    sign_in_as(page, library.senior)
    page.goto("/runbooks")
    page.get_by_role("button", name="New runbook").click()
    expect(page.locator("#editor-lint")).to_contain_text("No problems")
    page.wait_for_load_state()
    page.locator("#editor-source").fill(HOSTILE)
    expect(page.locator("#editor-lint")).to_contain_text("hostile-text")
    expect(page.locator("#editor-lint")).to_contain_text("No problems")
    page.get_by_label("Note (what changed and why)").fill("<b>first</b> {{ 7*7 }}")
    page.get_by_role("button", name="Save revision").click()
    expect(page).to_have_url(re.compile(r"/runbooks/hostile-text\?saved=1$"))
    title = "<script>alert('title')</script> {{ 7*7 }}"
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".runbook-description")).to_have_text("<img src=x onerror=alert('desc')>")
    node = page.locator("svg.flowchart g.node[data-step='first']")
    expect(node.locator(".node-text")).to_contain_text("<script>alert('step')</script>")
    expect(node.locator(".node-text")).to_contain_text("{{ 7*7 }}")
    expect(page.locator("svg.flowchart g.node")).to_have_count(3)
    expect(page.locator("svg.flowchart g.edge-label", has_text="<i>Yes</i>")).to_have_count(1)
    expect(page.locator(".done-list")).to_have_text("<u>Checked</u> {{ 7*7 }}")
    expect(page.locator(".history-table")).to_contain_text("<b>first</b> {{ 7*7 }}")
    # Never evaluated: "{{ 7*7 }}" is shown as typed after each hostile text (a bare "49"
    # could be a time of day in the history).
    assert not re.search(r"(</u>|</b>|</script>) 49", page.locator("main").inner_text())
    page.goto("/runbooks")
    expect(page.locator(".runbook-table")).to_contain_text(title)
    assert browser_log.dialogs == []
    assert browser_log.errors == []
    # The same key again is refused, with the text kept.
    page.goto("/runbooks/new")
    page.wait_for_load_state()
    page.locator("#editor-source").fill(HOSTILE)
    expect(page.locator("#editor-lint")).to_contain_text("hostile-text")
    page.get_by_label("Note (what changed and why)").fill("again")
    page.get_by_role("button", name="Save revision").click()
    expect(page.locator(".editor-error")).to_contain_text("already exists")


def test_editor_checks_without_javascript(
    browser_page_no_js: Page, library: QueueData, sign_in_as: Callable[[Page, Member], None]
) -> None:
    page = browser_page_no_js
    sign_in_as(page, library.senior)
    page.goto(f"/runbooks/{VPN}/edit")
    box = page.locator("#editor-source")
    box.fill(box.input_value().replace("category: vpn", "category: teleportation"))
    page.get_by_role("button", name="Check").click()
    expect(page.locator("#editor-lint tr#L4 .msg")).to_contain_text("teleportation")
    expect(box).to_have_value(re.compile("category: teleportation"))
