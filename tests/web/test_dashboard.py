"""The owner dashboard, as the owner and the team see it in the browser."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import event

from franchise.accounts.service import get_staff, list_staff
from franchise.accounts.sessions import SignedIn
from franchise.audit.service import audit
from franchise.bootstrap import initialise
from franchise.clients.service import add_client
from franchise.contacts.hours import local_midnight, week_start
from franchise.contacts.service import kpi_report
from franchise.db import Database, utcnow
from franchise.demo.service import load_demo
from franchise.drills.contact_log import log_contact
from franchise.drills.models import ReviewItem
from franchise.drills.service import all_drills, start_drill
from franchise.orgsettings.service import get_config, set_setting
from franchise.runbooks import service as runbooks
from franchise.tickets.service import create_ticket
from franchise.web.dashboard import dashboard_context
from franchise.wording import label
from tests.web.conftest import SCREENSHOTS, BrowserLog, LiveServer, Member

Cookie = Callable[[Member], dict[str, str]]
SignIn = Callable[[Page, Member], None]


@pytest.fixture
def team(make_staff: Callable[..., Member]) -> dict[str, Member]:
    return {
        "owner": make_staff("Olivia Owner", role="owner", level="owner"),
        "manager": make_staff("Mo Manager", role="service_manager", level="L2"),
        "tech": make_staff("Tess Tech"),
        "senior": make_staff("Sam Senior", level="L2"),
    }


# (weeks back, channel, reason, outcome, asker, client, category, minutes). A contact of an
# earlier week is logged on that week's Tuesday at 10:00 (org time); one of this week a
# minute ago, so the weekly counts below hold whatever day the test runs on.
CONTACTS = [
    (0, "call", "approval", "interruption", "tech", "Acme Dental", "backup", 10),
    (0, "text", "technical_decision", "interruption", "senior", "Brightside Legal", "vpn", 5),
    (0, "chat", "approval", "deflection", "tech", "Acme Dental", "backup", 0),
    (1, "call", "escalation", "interruption", "tech", "Acme Dental", "vpn", 15),
    (1, "in_person", "approval", "interruption", "senior", None, None, 20),
    (2, "call", "approval", "interruption", "tech", "Brightside Legal", "backup", 12),
    (2, "email", "customer_communication", "interruption", "tech", "Acme Dental", "mfa", 8),
    (2, "call", "approval", "interruption", "senior", "Brightside Legal", "backup", 30),
    (3, "chat", "technical_decision", "interruption", "tech", "Acme Dental", "vpn", 4),
    (4, "call", "escalation", "interruption", "senior", "Brightside Legal", "mfa", 6),
    (6, "text", "approval", "interruption", "tech", "Acme Dental", "backup", 3),
]
# Worked out from CONTACTS by hand: the deflection counts nowhere below.
WEEKLY_OLDEST_FIRST = [0, 1, 0, 1, 1, 3, 2, 2]  # weeks back 7 .. 0
FOUR_WEEK_AVERAGE = 1.75  # weeks back 1-4: (2 + 3 + 1 + 1) / 4, inside the target of 2
BREAKDOWNS = {
    "reason": {
        "approval": 5,
        "technical_decision": 2,
        "escalation": 2,
        "customer_communication": 1,
    },
    "channel": {"call": 5, "text": 2, "in_person": 1, "email": 1, "chat": 1},
    "technician": {"Tess Tech": 6, "Sam Senior": 4},
    "client": {"Acme Dental": 5, "Brightside Legal": 4, "none": 1},
    "category": {"backup": 4, "vpn": 3, "mfa": 2, "none": 1},
}


def _occurred(weeks_back: int, now: datetime, tz: ZoneInfo) -> datetime:
    if weeks_back == 0:
        return now - timedelta(minutes=1)
    monday = week_start(now, tz) - timedelta(weeks=weeks_back)
    return local_midnight(monday, tz) + timedelta(days=1, hours=10)


def _log_contacts(db: Database, team: dict[str, Member], now: datetime) -> list[str]:
    """Log CONTACTS; returns the shown weeks' Mondays, oldest first."""
    with db.unit_of_work() as session:
        config = get_config(session)
        for name in ("Acme Dental", "Brightside Legal"):
            add_client(session, name=name, tier="standard", endpoints=20)
        for weeks_back, channel, reason, outcome, asker, client, category, minutes in CONTACTS:
            ticket = None
            if client is not None:
                ticket = create_ticket(
                    session, title=f"{category} trouble", client=client, category=category
                )
            log_contact(
                session,
                occurred_at=_occurred(weeks_back, now, config.tz),
                channel=channel,
                reason=reason,
                outcome=outcome,
                config=config,
                ticket=ticket,
                by=get_staff(session, team[asker].id),
                minutes=minutes,
            )
        this_week = week_start(now, config.tz)
    return [(this_week - timedelta(weeks=7 - i)).isoformat() for i in range(8)]


def _breakdown(page: Page, name: str) -> dict[str, int]:
    rows = page.locator(f"[data-breakdown='{name}'] tr[data-name]")
    return {
        str(row.get_attribute("data-name")): int(str(row.locator(".dash-n").text_content()))
        for row in rows.all()
    }


def _assert_matches_kpi(page: Page, kpi: dict[str, Any], report: dict[str, Any]) -> None:
    this_week = kpi["weeks"][-1]
    expect(page.locator("#tile-this-week .dash-big")).to_have_text(str(this_week["interruptions"]))
    average = page.locator("#tile-average .dash-big")
    assert float(str(average.get_attribute("data-value"))) == kpi["four_week_average"]
    expect(page.locator("#tile-average")).to_contain_text(f"target 0–{kpi['target_max']}")
    on_target = "On target" if kpi["status"] == "on_target" else "Above target"
    expect(page.locator("#tile-average")).to_contain_text(on_target)
    shown = {
        str(row.get_attribute("data-week")): int(str(row.locator(".dash-n").text_content()))
        for row in page.locator(".dash-weeks tr[data-week]").all()
    }
    assert shown == {w["week_start"]: w["interruptions"] for w in kpi["weeks"]}
    for name in ("reason", "channel", "technician", "client", "category"):
        assert _breakdown(page, name) == {r["name"]: r["count"] for r in kpi[f"by_{name}"]}
    expect(page.locator("#tile-score .dash-big")).to_have_attribute(
        "data-value", str(report["score"])
    )
    bottleneck = str(report["bottleneck"] or "None").replace("_", " ")
    expect(page.locator("#tile-bottleneck .dash-big")).to_have_text(bottleneck, ignore_case=True)
    # The chart was drawn by dashboard.js from the JSON block, with the same weekly counts.
    bars = page.evaluate("document.getElementById('kpi-chart').chart.data.datasets[0].data")
    assert bars == [w["interruptions"] for w in kpi["weeks"]]


def test_dashboard_shows_the_hand_counted_kpi_of_the_logged_contacts(
    page: Page,
    db: Database,
    team: dict[str, Member],
    sign_in_as: SignIn,
    browser_log: BrowserLog,
) -> None:
    mondays = _log_contacts(db, team, utcnow())
    sign_in_as(page, team["owner"])
    page.goto("/")
    expect(page).to_have_url(f"{page.url.split('/dashboard')[0]}/dashboard")
    expect(page.locator("#tile-this-week .dash-big")).to_have_text("2")
    average = page.locator("#tile-average .dash-big")
    assert float(str(average.get_attribute("data-value"))) == FOUR_WEEK_AVERAGE
    expect(page.locator("#tile-average")).to_contain_text("target 0–2")
    expect(page.locator("#tile-average")).to_contain_text("On target")
    shown = {
        str(row.get_attribute("data-week")): int(str(row.locator(".dash-n").text_content()))
        for row in page.locator(".dash-weeks tr[data-week]").all()
    }
    assert shown == dict(zip(mondays, WEEKLY_OLDEST_FIRST, strict=True))
    for name, expected in BREAKDOWNS.items():
        assert _breakdown(page, name) == expected, name
    bars = page.evaluate("document.getElementById('kpi-chart').chart.data.datasets[0].data")
    assert bars == WEEKLY_OLDEST_FIRST
    expect(page.locator("#breakdown [data-breakdown='technician']")).to_contain_text("Tess Tech")
    # The interruptions of earlier weeks are still there to review, not gone with the week.
    expect(page.locator("#earlier-review")).to_contain_text(f"{sum(WEEKLY_OLDEST_FIRST[:-1])} open")
    # Chart.js drew without tripping the Content-Security-Policy (no inline script ran).
    assert browser_log.errors == []


def test_demo_dashboard_matches_the_cli_figures(
    page: Page, db: Database, sign_in_as: SignIn, browser_log: BrowserLog
) -> None:
    now = utcnow()
    with db.unit_of_work() as session:
        initialise(session)
        load_demo(session, seed=7, now=now)
        owner = next(s for s in list_staff(session) if s.role == "owner")
        member = Member(owner.id, owner.name, owner.email, "")
    sign_in_as(page, member)
    page.goto("/dashboard")
    with db.unit_of_work() as session:
        kpi = kpi_report(session, weeks=8)
        report = audit(session)
    _assert_matches_kpi(page, kpi, report)
    expect(page.locator("#coverage")).to_contain_text(label(report["write_next"]["category"]))
    expect(page.locator("#drill [data-drill='last']")).to_contain_text("Start")
    page.wait_for_timeout(100)
    # The top of the page (tiles, chart, breakdowns, drill, coverage): the demo's long drill
    # review below would make a picture tens of thousands of pixels tall.
    width = page.viewport_size["width"] if page.viewport_size else 1280
    page.screenshot(
        path=str(SCREENSHOTS / "dashboard.png"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": width, "height": 2000},
    )
    assert browser_log.errors == []


@pytest.fixture
def drill_item(db: Database, team: dict[str, Member]) -> int:
    """A running drill with one ask refused; the starter runbooks predate the drill."""
    with db.unit_of_work() as session:
        initialise(session)
        add_client(session, name="Acme Dental", tier="standard", endpoints=20)
        owner = get_staff(session, team["owner"].id)
        drill = start_drill(session, by=owner)
        ticket = create_ticket(
            session, title="VPN down for the whole office", client="Acme Dental", category="vpn"
        )
        contact = log_contact(
            session,
            occurred_at=drill.starts_at + timedelta(seconds=1),
            channel="in_app",
            reason="technical_decision",
            outcome="refused",
            config=get_config(session),
            ticket=ticket,
            by=get_staff(session, team["tech"].id),
            question="Can I reset the firewall VPN policy?",
        )
    return contact.id


def test_the_dashboard_data_is_read_without_writing(
    db: Database, team: dict[str, Member], drill_item: int
) -> None:
    owner = team["owner"]
    user = SignedIn(owner.id, owner.name, owner.email, "owner", "owner", "token")
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            statements.append(statement)

    with db.unit_of_work() as session:
        connection = session.connection()
        event.listen(connection, "before_cursor_execute", record)
        try:
            context = dashboard_context(session, user)
        finally:
            event.remove(connection, "before_cursor_execute", record)
    assert statements == []
    review = context["drill_review"]
    assert [i["contact_id"] for i in review["items"]] == [drill_item]


def _revise_vpn_runbook(db: Database) -> None:
    with db.unit_of_work() as session:
        row = runbooks.get_runbook(session, "vpn-auth-failure")
        source = runbooks.current_source(session, row)
        runbooks.save_runbook(
            session, source + "\n# Reviewed after the drill.\n", note="drill lesson"
        )


def test_owner_closes_a_drill_review_item_in_place(
    page: Page,
    db: Database,
    team: dict[str, Member],
    drill_item: int,
    sign_in_as: SignIn,
    browser_log: BrowserLog,
) -> None:
    sign_in_as(page, team["owner"])
    page.goto("/dashboard")
    expect(page.locator("#drill [data-drill='active']")).to_contain_text("Running now")
    review = page.locator("#drill-review")
    item = review.locator(".dash-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Can I reset the firewall VPN policy?")
    page.evaluate("window.notReloaded = true")

    item.get_by_label("Closed by").select_option("runbook:vpn-auth-failure")
    item.get_by_label("Note").fill("Added the firewall policy check to the VPN runbook.")
    item.get_by_role("button", name="Close item").click()
    refusal = review.locator(".dash-refusal")
    expect(refusal).to_contain_text("runbook 'vpn-auth-failure' has no revision since drill")
    # The form keeps what was typed, so the owner revises the runbook and just resubmits.
    expect(item.get_by_label("Note")).to_have_value(
        "Added the firewall policy check to the VPN runbook."
    )

    _revise_vpn_runbook(db)
    item.get_by_role("button", name="Close item").click()
    closed = review.locator(".dash-item-closed")
    expect(closed).to_contain_text("Improve runbook")
    expect(closed).to_contain_text("vpn-auth-failure revision 2")
    expect(closed).to_contain_text("Added the firewall policy check")
    expect(review.locator(".dash-refusal")).to_have_count(0)
    # The list's count follows without a reload.
    expect(page.locator("#drill-review-count")).to_have_text("1 of 1 closed")
    assert page.evaluate("window.notReloaded") is True  # swapped in place, no reload

    with db.unit_of_work() as session:
        row = session.query(ReviewItem).filter_by(contact_id=drill_item).one()
        assert row.disposition == "improve_runbook"
        assert row.disposed_by_id == team["owner"].id
    page.reload()
    expect(page.locator("#drill-review .dash-item-closed")).to_have_count(1)
    assert browser_log.errors == []


def test_rule_refusal_is_shown_inline_too(
    page: Page, db: Database, team: dict[str, Member], drill_item: int, sign_in_as: SignIn
) -> None:
    sign_in_as(page, team["owner"])
    page.goto("/dashboard")
    item = page.locator("#drill-review .dash-item")
    item.get_by_label("Closed by").select_option("rule:domain-controller-down")
    item.get_by_label("Note").fill("DC outages still go to the owner.")
    item.get_by_role("button", name="Close item").click()
    expect(item.locator(".dash-refusal")).to_contain_text("escalation map has no revision since")


def test_closing_an_item_works_without_javascript(
    browser_page_no_js: Page,
    db: Database,
    team: dict[str, Member],
    drill_item: int,
    sign_in_as: SignIn,
) -> None:
    page = browser_page_no_js
    sign_in_as(page, team["owner"])
    page.goto("/dashboard")
    item = page.locator("#drill-review .dash-item")
    item.get_by_label("Closed by").select_option("runbook:vpn-auth-failure")
    item.get_by_label("Note").fill("Too early.")
    item.get_by_role("button", name="Close item").click()
    expect(page.locator("#drill-review .dash-refusal")).to_contain_text("has no revision since")
    _revise_vpn_runbook(db)
    page.locator("#drill-review").get_by_role("button", name="Close item").click()
    expect(page.locator("#drill-review .dash-item-closed")).to_contain_text("Too early.")


def test_service_manager_sees_the_dashboard_but_cannot_close_items(
    page: Page, team: dict[str, Member], drill_item: int, sign_in_as: SignIn
) -> None:
    sign_in_as(page, team["manager"])
    page.goto("/dashboard")
    expect(page.locator("#drill-review .dash-item")).to_contain_text("the owner or an admin")
    expect(page.locator(".dash-dispose")).to_have_count(0)
    expect(page.get_by_role("button", name="End the drill now")).to_have_count(0)


def test_owner_ends_and_starts_a_drill_from_the_dashboard(
    page: Page, team: dict[str, Member], drill_item: int, sign_in_as: SignIn
) -> None:
    sign_in_as(page, team["owner"])
    page.goto("/dashboard")
    page.get_by_role("button", name="End the drill now").click()
    expect(page.locator("#drill [data-drill='last']")).to_contain_text("ended early")
    # What a hand-made request (or an old browser) may send: refused, saying what is wrong.
    page.get_by_label("Days").evaluate("field => { field.type = 'text'; }")
    page.get_by_label("Days").fill("abc")
    page.get_by_role("button", name="Start a drill now").click()
    expect(page.locator("#drill")).to_contain_text("a whole number of days, not 'abc'")
    page.get_by_label("Days").fill("2")
    page.get_by_role("button", name="Start a drill now").click()
    expect(page.locator("#drill [data-drill='active']")).to_contain_text("Running now")


def test_owner_schedules_a_drill_in_local_time(
    page: Page, db: Database, team: dict[str, Member], sign_in_as: SignIn
) -> None:
    with db.unit_of_work() as session:
        set_setting(session, "timezone", "Europe/Berlin")
    sign_in_as(page, team["owner"])
    page.goto("/dashboard")
    when = (utcnow() + timedelta(days=9)).astimezone(ZoneInfo("Europe/Berlin"))
    local = when.strftime("%Y-%m-%dT08:00")
    page.get_by_label("Starts").fill(local)
    page.get_by_label("Lasting").fill("3")
    page.get_by_role("button", name="Schedule a drill").click()
    expect(page.locator("#drill [data-drill='next']")).to_contain_text("Scheduled")
    with db.unit_of_work() as session:
        (drill,) = [d for d in all_drills(session) if d.starts_at > utcnow()]
        expected = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo("Europe/Berlin"))
        assert drill.starts_at == expected.astimezone(UTC)


def test_technician_gets_403_on_the_dashboard(
    page: Page,
    live: LiveServer,
    team: dict[str, Member],
    sign_in_as: SignIn,
    session_cookie: Cookie,
) -> None:
    sign_in_as(page, team["tech"])
    response = page.goto("/dashboard")
    assert response is not None
    assert response.status == 403
    expect(page.locator(".error-card")).to_contain_text("Only the owner")
    expect(page.locator(".side-nav").get_by_role("link", name="Dashboard")).to_have_count(0)
    with httpx.Client(base_url=live.url, cookies=session_cookie(team["tech"])) as http:
        assert http.get("/dashboard").status_code == 403
        home = http.get("/dashboard")
        assert "Interruptions per week" not in home.text
        found = http.get("/queue").text.split('name="csrf_token" value="')[1].split('"')[0]
        posted = http.post("/dashboard/review/1", data={"csrf_token": found, "note": "x"})
        assert posted.status_code == 403
        started = http.post("/dashboard/drill/start", data={"csrf_token": found})
        assert started.status_code == 403
