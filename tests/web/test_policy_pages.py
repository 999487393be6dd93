"""The escalation map, boundaries and templates pages: owner/admin only, edited like runbooks."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from franchise.accounts.service import get_staff
from franchise.approvals import service as approvals
from franchise.db import Database
from franchise.escalation import service as escalation
from franchise.messages import service as messages
from franchise.policydocs import service as policydocs
from tests.web.conftest import BrowserLog, LiveServer, Member, QueueData, screenshot


@pytest.fixture
def policies(db: Database, queue_data: QueueData) -> QueueData:
    """The starter escalation map, boundaries and templates, each stored as revision 1."""
    with db.unit_of_work() as session:
        escalation.load_starter(session)
        approvals.load_starter_boundaries(session)
        messages.load_starter_templates(session)
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


def _replace_source(page: Page, old: str, new: str) -> None:
    # A click that navigates returns before htmx has wired up the textarea; typing earlier
    # would not be checked live (saving still checks it).
    page.wait_for_load_state()
    box = page.locator("#editor-source")
    text = box.input_value()
    assert old in text
    box.fill(text.replace(old, new, 1))


def test_technician_is_refused_the_escalation_map_editor(
    page: Page,
    policies: QueueData,
    sign_in_as: Callable[[Page, Member], None],
    http_as: Callable[[Member], httpx.Client],
    db: Database,
) -> None:
    sign_in_as(page, policies.tech)
    for path in ("/escalation/edit", "/boundaries/edit", "/templates/edit"):
        response = page.goto(path)
        assert response is not None
        assert response.status == 403, path
        expect(page.locator(".error-card")).to_contain_text("Only the owner or an admin")
    # What they work under, they may read: the map, the limits, the templates and diffs.
    for path in ("/escalation", "/boundaries", "/templates", "/templates/diff"):
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
    page.goto("/escalation")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.locator(".page-head")).to_contain_text("Read only")
    nav = page.locator(".side-nav")
    expect(nav.get_by_role("link", name="Escalation map")).to_have_count(1)

    # Refused on the server too, with a valid CSRF token and a valid document.
    client = http_as(policies.tech)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/queue").text)
    assert token is not None
    with db.unit_of_work() as session:
        source = escalation.current_map(session).source
    for slug in ("escalation", "boundaries", "templates"):
        refused = client.post(
            f"/{slug}/edit",
            data={
                "csrf_token": token.group(1),
                "source": source + "\n# mine now\n",
                "note": "sneaky",
                "expected_revision": "1",
                "intent": "save",
            },
        )
        assert refused.status_code == 403, slug
    with db.unit_of_work() as session:
        for kind in ("escalation", "boundaries", "templates"):
            assert policydocs.count(session, kind) == 1


def test_owner_fixes_a_lint_error_then_saves_and_sees_the_diff(
    page: Page,
    policies: QueueData,
    sign_in_as: Callable[[Page, Member], None],
    db: Database,
    browser_log: BrowserLog,
) -> None:
    sign_in_as(page, policies.owner)
    page.goto("/queue")
    page.locator(".side-nav").get_by_role("link", name="Escalation map").click()
    rules = page.locator(".rule-list > li")
    expect(rules.first).to_contain_text("1. domain-controller-down")
    expect(rules.first).to_contain_text("to owner")
    expect(rules.first).to_contain_text("emergency")
    expect(rules.first.locator(".rule-when")).to_contain_text("keywords")
    expect(page.locator(".history-table")).to_contain_text("starter map")

    page.get_by_role("button", name="Edit").click()
    expect(page.locator("#editor-lint")).to_contain_text("No problems")
    lines = page.locator("#editor-source").input_value().splitlines()
    line = lines.index("    to: owner") + 1
    _replace_source(page, "    to: owner", "    to: boss")
    row = page.locator(f"#editor-lint tr#L{line}")
    expect(row.locator(".msg")).to_contain_text("unknown level 'boss'")
    expect(row).to_have_class(re.compile("has-problem"))
    page.get_by_label("Note (what changed and why)").fill("DC outages go to L2 first")
    page.get_by_role("button", name="Save revision").click()
    expect(page.locator(".editor-error")).to_contain_text("Not saved: 1 problem")
    expect(page.locator(f"#editor-lint tr#L{line} .msg")).to_contain_text("unknown level 'boss'")
    expect(page.locator("#editor-source")).to_have_value(re.compile("to: boss"))
    with db.unit_of_work() as session:
        assert policydocs.count(session, "escalation") == 1

    _replace_source(page, "    to: boss", "    to: L2")
    expect(page.locator("#editor-lint")).to_contain_text("No problems")
    page.get_by_role("button", name="Save revision").click()
    expect(page).to_have_url(re.compile(r"/escalation\?saved=2$"))
    expect(page.get_by_role("status")).to_contain_text("Saved revision 2")
    expect(rules.first).to_contain_text("to L2")
    history = page.locator(".history-table")
    expect(history).to_contain_text("DC outages go to L2 first")
    expect(history).to_contain_text("Olivia Owner")
    with db.unit_of_work() as session:
        version = escalation.current_map(session)
        assert version.revision == 2
        assert version.map.rules[0].to == "L2"

    history.get_by_role("link", name="diff").click()
    expect(page.locator("tr.diff-delete td.ln").first).to_have_text(str(line))
    expect(page.locator("tr.diff-delete")).to_contain_text("to: owner")
    expect(page.locator("tr.diff-add")).to_contain_text("to: L2")
    expect(page.locator(".diff-stats")).to_contain_text("+1")
    expect(page.locator(".diff-stats")).to_contain_text("−1")
    assert browser_log.errors == []


def test_boundaries_show_a_table_per_level_and_templates_a_list(
    page: Page, policies: QueueData, sign_in_as: Callable[[Page, Member], None]
) -> None:
    sign_in_as(page, policies.owner)
    page.goto("/boundaries")
    expect(page.locator(".level-table")).to_have_count(3)
    l1 = page.locator(".level-table", has_text="L1 may approve")
    expect(l1.locator("tbody tr").first).to_contain_text("100")
    expect(l1.locator("tbody tr").first).to_contain_text("none, low")
    page.goto("/templates")
    table = page.locator(".templates-table")
    expect(table).to_contain_text("resolved-confirm")
    expect(table.locator("tr", has_text="vpn-reconnect-resolved")).to_contain_text(
        "vpn-auth-failure"
    )
    expect(table).to_contain_text("{{ ticket.title }}")


def test_a_stale_save_is_a_conflict_and_keeps_the_text(
    page: Page, policies: QueueData, sign_in_as: Callable[[Page, Member], None], db: Database
) -> None:
    sign_in_as(page, policies.owner)
    page.goto("/boundaries/edit")
    _replace_source(page, "minutes: 120", "minutes: 90")
    expect(page.locator("#editor-lint")).to_contain_text("minutes: 90")
    with db.unit_of_work() as session:
        source, _number = approvals.boundaries_source(session)
        approvals.save_boundaries(
            session,
            source.replace("then: escalate", "then: deny"),
            author=get_staff(session, policies.owner.id),
            note="deny on timeout",
            expected_revision=1,
        )
    page.get_by_label("Note (what changed and why)").fill("faster timeout")
    page.get_by_role("button", name="Save revision").click()
    expect(page.locator(".editor-error")).to_contain_text("someone saved it meanwhile")
    expect(page.locator(".conflict")).to_contain_text("deny on timeout")
    expect(page.locator(".conflict tr.diff-add")).to_contain_text("then: deny")
    expect(page.locator("#editor-source")).to_have_value(re.compile("minutes: 90"))
    with db.unit_of_work() as session:
        assert policydocs.count(session, "boundaries") == 2
    screenshot(page, "editor-conflict.png")
