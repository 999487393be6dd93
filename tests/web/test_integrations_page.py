"""The owner sets up a monitoring tool in the browser: adds an Alertmanager integration, its
alerts become a ticket, revokes it; the page fits a phone and passes axe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from franchise.alerts.inbox import receive, store
from franchise.alerts.service import add_integration, add_mapping, revoke_integration
from franchise.alerts.worker import process_pending
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.orgsettings.secrets import set_delivery_setting
from tests.web.conftest import BrowserLog, LiveServer, Member, screenshot
from tests.web.test_accessibility import WIDE, _violations

SignIn = Callable[[Page, Member], None]
ALERTMANAGER = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks" / "alertmanager"
# Every row, and everything in it, inside its card: a long token, pattern or error must
# wrap, not spill. The spills found, as "row id: pixels".
ROWS_SPILL = """() => [...document.querySelectorAll('.int-table tbody tr')].flatMap(row => {
  const card = row.closest('.card').getBoundingClientRect();
  const shown = [row, ...row.querySelectorAll('*')].filter(el => el.getClientRects().length);
  return shown.map(el => {
    const box = el.getBoundingClientRect();
    return [row.id, Math.max(box.right - card.right, card.left - box.left)];
  });
}).filter(([, spill]) => spill > 0.5).map(([id, spill]) => `${id}: ${spill}`)"""


@pytest.fixture
def owner(make_staff: Callable[..., Member]) -> Member:
    return make_staff("Olivia Owner", role="owner", level="owner")


@pytest.fixture
def public_url(db: Database, live: LiveServer) -> str:
    """The address saved on the Settings page, here the test server's own."""
    with db.unit_of_work() as session:
        set_delivery_setting(session, "public_url", live.url, live.app.state.settings)
    return live.url


def busy_setup(db: Database) -> None:
    """Integrations, mappings and problems with long values, as a phone must show them."""
    with db.unit_of_work() as session:
        add_client(session, name="Pemberton Insurance Brokers International Holdings")
        prom, _ = add_integration(
            session,
            kind="alertmanager",
            name="Pemberton Prometheus (datacentre, second site)",
            client="Pemberton Insurance Brokers International Holdings",
            auto_resolve=True,
        )
        add_integration(session, kind="pagerduty", name="NinjaOne via PagerDuty", group_by="alert")
        old, _ = add_integration(session, kind="zabbix", name="Zabbix (replaced)")
        revoke_integration(session, old.id)
        add_mapping(
            session,
            client="Pemberton Insurance Brokers International Holdings",
            host_pattern="*.pemberton-insurance-brokers-international.internal.example",
            integration_id=prom.id,
        )
        add_mapping(
            session,
            client="Pemberton Insurance Brokers International Holdings",
            label="site=PembertonHeadquartersSecondFloorComms",
        )
        body = b'{"version": "4", "alerts": [{"labels": "x"}]}'
        store(session, prom.id, receive("alertmanager", body, {}))


def test_the_owner_adds_an_alertmanager_integration_sees_its_ticket_and_revokes_it(
    page: Page,
    db: Database,
    live: LiveServer,
    owner: Member,
    sign_in_as: SignIn,
    public_url: str,
    browser_log: BrowserLog,
) -> None:
    with db.unit_of_work() as session:
        add_client(session, name="Acme Dental")
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in_as(page, owner)
    page.goto("/queue")
    page.locator(".side-nav").get_by_role("link", name="Integrations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Integrations")
    expect(page.locator("#integrations")).to_contain_text("No integrations yet")

    form = page.locator("#add form")
    form.get_by_label("Monitoring tool").select_option(label="Prometheus Alertmanager")
    form.get_by_label("Name").fill("Acme Prometheus")
    form.get_by_label("Client").select_option(label="Acme Dental")
    form.get_by_label("Tickets").select_option(label="One per notification group")
    form.get_by_label("Resolve the ticket when the tool reports the alert resolved").check()
    form.get_by_role("button", name="Add integration").click()

    created = page.locator("#created")
    expect(created).to_contain_text("Shown once, copy it now.")
    url = page.locator("#created-url").inner_text().strip()
    token = page.locator("#created-token").inner_text().strip()
    assert url == f"{public_url}/api/v1/hooks/alertmanager/{token}"
    expect(created).to_contain_text(f"Or post to {public_url}/api/v1/hooks/alertmanager")
    expect(created).to_contain_text("X-Franchise-Token: <token>")
    row = page.locator("#integrations tbody tr", has_text="Acme Prometheus")
    expect(row).to_contain_text("Acme Dental")
    expect(row).to_contain_text("Per notification group Auto-resolve")
    expect(row).to_contain_text("Never")
    screenshot(page, "integrations.png")

    # The monitoring tool posts to the address as copied.
    sent = httpx.post(url, content=(ALERTMANAGER / "zulip_alert.json").read_bytes())
    assert sent.status_code == 202, sent.text
    assert process_pending(db, worker="test").done == 1
    page.goto("/queue")
    ticket = page.locator("tbody tr", has_text="High CPU core temperature")
    expect(ticket).to_have_count(1)
    expect(ticket).to_contain_text("Acme Dental")

    page.goto("/integrations")
    row = page.locator("#integrations tbody tr", has_text="Acme Prometheus")
    expect(row).not_to_contain_text("Never")
    expect(page.locator("#created")).to_have_count(0)
    assert token not in page.content()

    row.get_by_role("button", name="Revoke Acme Prometheus").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Revoke “Acme Prometheus”?")
    expect(page.locator("#revoke-last")).to_contain_text("It last received a webhook on")
    page.get_by_role("button", name="Yes, revoke Acme Prometheus").click()
    expect(page.get_by_role("status")).to_contain_text("Revoked “Acme Prometheus”")
    expect(row).to_contain_text("Revoked")
    expect(row.get_by_role("button")).to_have_count(0)
    again = httpx.post(url, content=(ALERTMANAGER / "zulip_alert.json").read_bytes())
    assert again.status_code == 401
    assert browser_log.errors == []


def test_a_bad_mapping_is_explained_beside_its_form(
    page: Page, db: Database, owner: Member, sign_in_as: SignIn
) -> None:
    with db.unit_of_work() as session:
        acme = add_client(session, name="Acme Dental").id
    sign_in_as(page, owner)
    page.goto("/integrations")
    form = page.locator("#mapping-form")
    form.get_by_label("Client").select_option(label="Acme Dental")
    form.get_by_label("Label").fill("site")
    form.get_by_role("button", name="Add mapping").click()
    expect(page.locator("#mapping-error")).to_contain_text("must look like KEY=VALUE")
    expect(form.get_by_label("Label")).to_have_value("site")
    expect(form.get_by_label("Client")).to_have_value(str(acme))
    form.get_by_label("Label").fill("site=HQ")
    form.get_by_role("button", name="Add mapping").click()
    expect(page.get_by_role("status")).to_contain_text("Mapping added")
    mapping = page.locator("#mappings tbody tr", has_text="site=HQ")
    expect(mapping).to_contain_text("Acme Dental")
    expect(mapping).to_contain_text("All")
    mapping.get_by_role("button", name="Delete mapping site=HQ").click()
    expect(page.get_by_role("status")).to_contain_text("Mapping deleted.")
    expect(page.locator("#mappings tbody tr")).to_have_count(0)


def test_the_integrations_page_fits_a_phone_and_a_laptop(
    page: Page, phone_page: Page, db: Database, owner: Member, sign_in_as: SignIn
) -> None:
    busy_setup(db)
    page.set_viewport_size({"width": 1400, "height": 900})
    for view, width in ((phone_page, 390), (page, 1400)):
        sign_in_as(view, owner)
        view.goto("/integrations")
        expect(view.locator("#integrations tbody tr")).to_have_count(3)
        expect(view.locator("#problems tbody tr")).to_have_count(1)
        assert view.evaluate("document.documentElement.scrollWidth") <= width
        assert view.evaluate(ROWS_SPILL) == []
        if width == 390:
            screenshot(view, "integrations-phone.png")


def test_the_integrations_pages_pass_axe(
    browser: Browser, live: LiveServer, db: Database, owner: Member, sign_in_as: SignIn
) -> None:
    busy_setup(db)
    # The pages' CSP rightly refuses injected scripts; this context alone lets axe in.
    context = browser.new_context(base_url=live.url, viewport=WIDE, bypass_csp=True)
    page = context.new_page()
    sign_in_as(page, owner)
    page.goto("/integrations")
    assert _violations(page) == []
    page.locator("#add form").get_by_role("button", name="Add integration").click()
    expect(page.locator("#created")).to_be_visible()
    assert _violations(page) == []
    page.get_by_role("button", name="Revoke NinjaOne via PagerDuty").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Revoke")
    assert _violations(page) == []
    context.close()
