"""An outage of notification groups, from the webhooks to the technician's ticket page:
which hosts still fire, which have resolved, on a laptop and on a phone."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from franchise.alerts.inbox import receive, store
from franchise.alerts.models import AlertOutage, Integration
from franchise.alerts.service import add_integration
from franchise.alerts.worker import process_pending
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.tickets.service import create_ticket
from tests.web.conftest import BrowserLog, LiveServer, Member
from tests.web.test_accessibility import WIDE, _violations

FITS = "document.documentElement.scrollWidth <= window.innerWidth"
NAMES = ("HostDown", "DiskFull", "ServiceDown", "HighCPU", "BackupFailed")


def notification(name: str, hosts: list[str], status: str = "firing") -> dict[str, Any]:
    """Alertmanager's webhook for the group (site, alertname) of these hosts' alerts."""
    return {
        "version": "4",
        "groupKey": f'{{}}:{{site="HQ", alertname="{name}"}}',
        "status": status,
        "commonAnnotations": {},
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": name, "instance": f"{host}:9100", "site": "HQ"},
                "annotations": {"summary": f"{name} on {host}"},
                "fingerprint": f"{name}-{host}",
            }
            for host in hosts
        ],
    }


def send(db: Database, integration: Integration, body: dict[str, Any]) -> None:
    with db.unit_of_work() as session:
        store(session, integration.id, receive("alertmanager", json.dumps(body).encode(), {}))


def outage_ticket(db: Database) -> tuple[int, Integration]:
    with db.unit_of_work() as session:
        add_client(session, name="Acme")
        integration, _ = add_integration(session, kind="alertmanager", client="Acme")
    hosts = ["hq-srv-01", "hq-srv-02", "hq-ws-07"]
    for name in NAMES:
        send(db, integration, notification(name, hosts if name == "HostDown" else hosts[:2]))
    process_pending(db, worker="test")
    with db.unit_of_work() as session:
        ticket_id = session.scalars(select(AlertOutage.ticket_id)).one()
    assert ticket_id is not None
    return ticket_id, integration


def test_the_technician_sees_which_hosts_of_an_outage_still_fire(
    page: Page,
    db: Database,
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    ticket_id, integration = outage_ticket(db)
    sign_in_as(page, make_staff())
    page.goto(f"/tickets/{ticket_id}")
    expect(page.locator("h1")).to_contain_text("Outage at site HQ: 3 hosts")
    alerts = page.get_by_role("region", name="Alerts")
    expect(alerts).to_contain_text("11 firing · 0 resolved · 3 hosts · 5 alert groups")
    expect(alerts.locator(".tp-alert.is-firing", has_text="hq-ws-07")).to_have_count(1)
    expect(alerts.locator(".tp-alert.is-firing", has_text="hq-srv-01")).to_have_count(5)

    # While alerts fire the card asks for news; nothing has changed yet: 204, no swap.
    poll = alerts.get_attribute("hx-get")
    assert poll is not None and poll.startswith(f"/tickets/{ticket_id}/alerts?seen=")
    assert page.request.get(poll).status == 204

    # hq-srv-01's disk alert resolves: the open page says so by itself (no reload), still
    # firing alerts first.
    send(db, integration, notification("DiskFull", ["hq-srv-01"], status="resolved"))
    process_pending(db, worker="test")
    expect(alerts).to_contain_text("10 firing · 1 resolved", timeout=15_000)
    resolved = alerts.locator(".tp-alert.is-resolved")
    expect(resolved).to_have_count(1)
    expect(resolved).to_contain_text("hq-srv-01 DiskFull on hq-srv-01")
    expect(alerts.locator(".tp-alert").last).to_contain_text("Resolved")
    # The version the page had is out of date now: asked with it, the card comes back.
    changed = page.request.get(poll)
    assert changed.status == 200 and "10 firing" in changed.text()
    assert alerts.get_attribute("hx-get") != poll
    assert browser_log.errors == []


def test_the_alerts_of_an_outage_fit_a_phone(
    phone_page: Page,
    db: Database,
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    ticket_id, _ = outage_ticket(db)
    sign_in_as(phone_page, make_staff())
    phone_page.goto(f"/tickets/{ticket_id}")
    expect(phone_page.get_by_role("region", name="Alerts")).to_be_visible()
    assert phone_page.evaluate(FITS)


def test_a_ticket_not_opened_by_alerts_has_no_alerts_card(
    page: Page,
    db: Database,
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    with db.unit_of_work() as session:
        ticket_id = create_ticket(session, title="Printer offline", actor=None).id
    sign_in_as(page, make_staff())
    page.goto(f"/tickets/{ticket_id}")
    expect(page.locator("h1")).to_contain_text("Printer offline")
    expect(page.get_by_role("region", name="Alerts")).to_have_count(0)


def test_an_outage_ticket_with_its_alerts_passes_axe(
    browser: Browser,
    live: LiveServer,
    db: Database,
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    ticket_id, _ = outage_ticket(db)
    # The pages' CSP rightly refuses injected scripts; this context alone lets axe in.
    context = browser.new_context(base_url=live.url, viewport=WIDE, bypass_csp=True)
    page = context.new_page()
    sign_in_as(page, make_staff())
    page.goto(f"/tickets/{ticket_id}")
    expect(page.get_by_role("region", name="Alerts")).to_be_visible()
    assert _violations(page) == []
    context.close()
