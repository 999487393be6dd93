"""The runner of format v2 in the browser: numbered answers with the fallback, client facts
answered from and saved to the profile, edge cases of the step, a step waiting on approval
that unlocks by itself, and the endings (done list of the ending, emergency to the owner)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from franchise.accounts.service import get_staff
from franchise.approvals.models import ApprovalRequest
from franchise.approvals.service import decide, expire_pending
from franchise.clients.facts import facts_of, set_fact
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.runbooks import service as runbooks
from franchise.tickets.models import Ticket
from franchise.tickets.service import create_ticket
from franchise.web.ticket_view import step_title
from tests.web.conftest import SCREENSHOTS, BrowserLog, LiveServer, Member, _new_page, screenshot
from tests.web.test_vpn_scenario import (  # noqa: F401 - fixtures used by name
    answer,
    runner,
    starter,
)

WIDE = {"width": 1400, "height": 900}

# A small runbook whose one action costs more than L1 may approve (100): it waits on L2.
SECURITY_KEYS = """\
format: 2
key: security-key-lost
title: Lost hardware security key
category: mfa
status: validated
maintainer: L2
review_by: 2027-06-30
description: A user lost the FIDO2 key they sign in with.
inputs:
  - {id: user, label: Affected user (UPN), required: true}
fallback:
  to: L2
  text: Attach what the user said and which keys are registered.
done_when: [Root cause recorded in the ticket]
edge_cases:
  - when: The user says the key was stolen with their laptop
    do: Treat it as a compromise and contain the account first.
    steps: [key-status]
    switch: mfa-problem
  - when: The user is locked out of every device and a client deadline is today
    do: Hand it to L2 at once with the deadline in the ticket.
    steps: [key-status]
    escalate: L2
  - when: The supplier's portal is down
    do: Order by phone and attach the order number.
    steps: [order-keys]
start: key-status
steps:
  key-status:
    kind: check
    text: Is the key lost, or does it only fail to work?
    where: Entra admin center > Users > the user > Authentication methods
    options: {"Lost": order-keys, "Still here but fails": order-keys}
  order-keys:
    kind: action
    text: Order two replacement FIDO2 keys for the user from the usual supplier.
    where: Supplier portal
    estimate: {minutes: 20, cost: 180, impact: low, kind: hardware-purchase}
    options: {"Keys ordered": done, "Supplier cannot deliver": supplier-escalate}
  done:
    kind: resolve
    text: New keys ordered and the lost key removed from the account.
    done_when: [Lost key removed from the user's authentication methods]
  supplier-escalate:
    kind: escalate
    to: L2
    text: Ask L2 for another supplier.
"""


@pytest.fixture
def wide_page(browser: Browser, live: LiveServer, browser_log: BrowserLog) -> Iterator[Page]:
    """The 1400 px wide desk the technician works at."""
    context = browser.new_context(base_url=live.url, viewport=WIDE)
    yield _new_page(context, browser_log)
    context.close()


def _ticket(
    db: Database,
    *,
    title: str,
    body: str,
    client: str,
    category: str,
    runbook: str,
    facts: dict[str, str] | None = None,
) -> int:
    with db.unit_of_work() as session:
        row = add_client(session, name=client, tier="standard", endpoints=25)
        for key, value in (facts or {}).items():
            set_fact(session, row, key, value, by=None)
        ticket = create_ticket(
            session,
            title=title,
            body=body,
            client=row.id,
            category=category,
            runbook_key=runbook,
        )
        return ticket.id


def _start(page: Page, runbook: str, inputs: dict[str, str]) -> None:
    suggestion = page.locator(".tp-suggestion", has_text=runbook)
    if suggestion.get_attribute("open") is None:
        suggestion.locator("summary").click()
    for label, value in inputs.items():
        suggestion.get_by_label(label).fill(value)
    suggestion.get_by_role("button", name="Start this runbook").click()
    expect(runner(page).locator("input[name=step]")).to_have_count(1)


def _priority(db: Database, ticket_id: int) -> str:
    with db.unit_of_work() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket.priority


def test_a_step_waiting_on_l2_unlocks_without_a_reload_when_l2_approves(
    wide_page: Page,
    db: Database,
    live: LiveServer,
    starter: None,  # noqa: F811
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    page = wide_page
    tess = make_staff("Tess Tech", level="L1")
    sam = make_staff("Sam Senior", level="L2")
    with db.unit_of_work() as session:
        runbooks.save_runbook(session, SECURITY_KEYS, file="security-key-lost.yaml")
    ticket_id = _ticket(
        db,
        title="Lost my YubiKey on the train",
        body="Priya cannot sign in: her security key is gone.",
        client="Brightside Legal",
        category="mfa",
        runbook="security-key-lost",
    )
    sign_in_as(page, tess)
    page.goto(f"/tickets/{ticket_id}")
    _start(page, "security-key-lost", {"Affected user (UPN)": "priya@brightside.example"})
    box = runner(page)

    # The step: header in words, where to look, numbered answers with the fallback among
    # them, and this step's edge case right under it.
    expect(box.locator(".tp-step-kind")).to_have_text("Step 1 · Check")
    expect(box.get_by_role("heading", name="Key status")).to_be_visible()
    expect(box.locator(".tp-where")).to_contain_text("Authentication methods")
    options = box.get_by_role("list", name="Answers").get_by_role("button")
    # The number is shown, not read out: each button is named by its answer alone.
    expect(options).to_have_text(["1Lost", "2Still here but fails", "3None of these / not sure"])
    expect(box.get_by_role("button", name="None of these / not sure")).to_be_visible()
    expect(box.locator(".tp-fallback-note")).to_contain_text("hands the ticket to L2")
    edge = box.locator(".tp-edge")
    expect(edge).to_contain_text("stolen with their laptop")
    expect(edge.get_by_role("button", name="Switch to runbook mfa-problem")).to_be_visible()
    screenshot(page, "runner-check.png")

    answer(page, "key-status", "Lost", note="Left on the 08:12 train.")
    blocked = box.locator(".tp-blocked")
    expect(blocked).to_contain_text(
        # The timeout is two hours away: after 22:00 it falls on the next day, named as such.
        re.compile(r"Waiting for approval #\d+ from L2 \(times out at \d\d:\d\d( on \d\d \w{3})?\)")
    )
    expect(blocked).to_contain_text("You can still escalate to L2")
    for option in ("Keys ordered", "Supplier cannot deliver"):
        expect(box.get_by_role("button", name=option)).to_be_disabled()
    # Waiting does not trap the ticket: escalation to the approver's level is open.
    escalation = page.locator("#escalation")
    expect(escalation.locator(".verdict")).to_have_text("Escalation allowed: Yes — to L2")
    expect(escalation.get_by_role("button", name="Escalate to L2")).to_be_enabled()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "runner-waiting.png")

    # Something typed while waiting survives the unlock.
    box.get_by_label("Note / evidence").fill("Ordered from the usual supplier")
    marker = page.evaluate("window.__noReload = 1")
    assert marker == 1
    # The page polls on its own: the test thread takes its turn on the shared connection.
    with live.gate.exclusive(), db.unit_of_work() as session:
        pending = session.scalars(
            select(ApprovalRequest).where(ApprovalRequest.ticket_id == ticket_id)
        ).one()
        assert (pending.status, pending.approver_level) == ("pending", "L2")
        decide(session, pending, by=get_staff(session, sam.id), approve=True, reason="Budgeted.")

    # The page was not reloaded (the marker is still there) and the answers are unlocked.
    expect(box.get_by_role("button", name="Keys ordered")).to_be_enabled(timeout=10_000)
    assert page.evaluate("window.__noReload") == 1
    expect(box.locator(".tp-blocked")).to_have_count(0)
    expect(box.locator(".tp-approval")).to_contain_text("Approved")
    expect(page.locator("#runner-live")).to_contain_text("approved: the answers are unlocked")
    expect(box.get_by_label("Note / evidence")).to_have_value("Ordered from the usual supplier")
    box.get_by_role("button", name="Keys ordered").click()
    expect(box.locator(".tp-outcome")).to_contain_text("Runbook outcome: resolved")
    # Keyboard and screen reader users land on the ending, not at the top of the page.
    assert page.evaluate("document.activeElement.classList.contains('tp-outcome')")
    # The done list is the ending's: the runbook-wide item, then the ending's own.
    expect(page.locator("#done .tp-checklist li")).to_have_text(
        [
            "Root cause recorded in the ticket",
            "Lost key removed from the user's authentication methods",
        ]
    )
    assert browser_log.errors == []


def test_a_wait_that_times_out_moves_up_a_level_on_the_open_page(
    wide_page: Page,
    db: Database,
    live: LiveServer,
    starter: None,  # noqa: F811
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    page = wide_page
    tess = make_staff("Tess Tech", level="L1")
    with db.unit_of_work() as session:
        runbooks.save_runbook(session, SECURITY_KEYS, file="security-key-lost.yaml")
    ticket_id = _ticket(
        db,
        title="Security key lost",
        body="Lost in the car park.",
        client="Acme Dental",
        category="mfa",
        runbook="security-key-lost",
    )
    sign_in_as(page, tess)
    page.goto(f"/tickets/{ticket_id}")
    _start(page, "security-key-lost", {"Affected user (UPN)": "dana@acme-dental.example"})
    answer(page, "key-status", "Lost")
    box = runner(page)
    expect(box.locator(".tp-blocked")).to_contain_text("from L2")
    poll = box.locator(".tp-blocked").get_attribute("hx-get")
    assert poll is not None
    # While nothing changes the poll answers 204: htmx swaps nothing, the note being typed stays.
    still = page.request.get(poll, headers={"HX-Request": "true"})
    assert still.status == 204

    with live.gate.exclusive(), db.unit_of_work() as session:
        request = session.scalars(
            select(ApprovalRequest).where(ApprovalRequest.ticket_id == ticket_id)
        ).one()
        assert request.timeout_at is not None
        moved = expire_pending(session, now=request.timeout_at + timedelta(minutes=1))
        assert [m.outcome for m in moved] == ["escalated"]

    # L2 did not decide in time: the open page now says the owner decides, still locked.
    expect(box.locator(".tp-blocked")).to_contain_text("from owner", timeout=10_000)
    expect(box.get_by_role("status").first).to_contain_text("now waits on owner")
    expect(box.get_by_role("button", name="Keys ordered")).to_be_disabled()
    assert browser_log.errors == []


def test_the_edge_cases_of_a_step_escalate_or_switch_runbook_from_the_runner(
    wide_page: Page,
    db: Database,
    starter: None,  # noqa: F811
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    page = wide_page
    tess = make_staff("Tess Tech", level="L1")
    make_staff("Sam Senior", level="L2")
    with db.unit_of_work() as session:
        runbooks.save_runbook(session, SECURITY_KEYS, file="security-key-lost.yaml")
    tickets = [
        _ticket(
            db,
            title=f"Security key lost ({n})",
            body="Lost on the way home.",
            client=f"Client {n}",
            category="mfa",
            runbook="security-key-lost",
        )
        for n in (1, 2)
    ]
    sign_in_as(page, tess)
    page.goto(f"/tickets/{tickets[0]}")
    _start(page, "security-key-lost", {"Affected user (UPN)": "ed@client1.example"})
    edge = runner(page).locator(".tp-edge")
    # Only this step's cases: the supplier's portal belongs to the ordering step.
    expect(edge.locator("dt")).to_have_count(2)
    expect(edge).not_to_contain_text("portal is down")
    # Escalation is refused before the checks (the map), but this edge case allows it.
    expect(page.locator("#escalation .verdict")).to_have_text("Escalation allowed: No")
    edge.get_by_role("button", name="Escalate to L2").click()
    expect(page.locator("#escalation").get_by_role("status")).to_contain_text("Escalated to L2")
    expect(page.locator("#history")).to_contain_text("following edge case 2 of 'security-key-lost'")

    page.goto(f"/tickets/{tickets[1]}")
    _start(page, "security-key-lost", {"Affected user (UPN)": "flo@client2.example"})
    runner(page).locator(".tp-edge").get_by_role(
        "button", name="Switch to runbook mfa-problem"
    ).click()
    expect(runner(page).locator(".tp-card-head")).to_contain_text("mfa-problem")
    expect(runner(page).locator(".tp-path li")).to_have_count(0)
    expect(page.locator("#history")).to_contain_text(
        "left 'security-key-lost' at 'key-status' for 'mfa-problem': edge case 1"
    )
    assert browser_log.errors == []


WHICH_VPN = """\
format: 2
key: which-vpn
title: VPN by product
category: vpn
status: validated
maintainer: L2
description: Which VPN, then whether the gateway answers.
fallback: {to: L2, text: Attach the error.}
start: vpn-type
steps:
  vpn-type:
    kind: check
    fact: vpn
    text: Which VPN does the client use?
    options: {"FortiGate": gateway, "SonicWall": gateway}
  gateway:
    kind: check
    text: Does the gateway answer on 443?
    options: {"Yes": fixed, "No": down}
  fixed: {kind: resolve, text: Connected.}
  down: {kind: escalate, to: L2, text: Gateway down.}
"""


def test_without_javascript_a_saved_answer_answers_the_clients_next_ticket(
    browser_page_no_js: Page,
    db: Database,
    starter: None,  # noqa: F811
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    page = browser_page_no_js
    tess = make_staff("Tess Tech", level="L1")
    with db.unit_of_work() as session:
        runbooks.save_runbook(session, WHICH_VPN, file="which-vpn.yaml")
        client = add_client(session, name="Acme Dental", tier="standard", endpoints=25)
        first, second = (
            create_ticket(
                session, title=title, client=client.id, category="vpn", runbook_key="which-vpn"
            ).id
            for title in ("VPN down on Monday", "VPN down again on Friday")
        )
    sign_in_as(page, tess)
    page.goto(f"/tickets/{first}")
    page.locator(".tp-suggestion", has_text="which-vpn").get_by_role(
        "button", name="Start this runbook"
    ).click()
    box = runner(page)
    box.get_by_label("Save this answer to Acme Dental's profile").check()
    box.get_by_role("button", name="SonicWall").click()
    expect(box.locator("input[name=step]")).to_have_value("gateway")
    with db.unit_of_work() as session:
        assert facts_of(session, client.id) == {"vpn": "SonicWall"}

    # The next ticket of the same client starts past the question the profile answers.
    page.goto(f"/tickets/{second}")
    page.locator(".tp-suggestion", has_text="which-vpn").get_by_role(
        "button", name="Start this runbook"
    ).click()
    expect(box.locator("input[name=step]")).to_have_value("gateway")
    expect(box.locator(".tp-path-profile")).to_contain_text("(vpn = SonicWall)")
    box.get_by_role("button", name="Change the answer to VPN type").click()
    expect(box.locator("input[name=step]")).to_have_value("vpn-type")
    expect(box.locator(".tp-fact")).to_contain_text("vpn = SonicWall")
    expect(box.get_by_label(re.compile("profile"))).to_have_count(0)


# --- the starter runbooks ---------------------------------------------------------------------


def test_vpn_walk_uses_the_client_profile_and_saves_an_answer_to_it(
    wide_page: Page,
    browser: Browser,
    live: LiveServer,
    db: Database,
    starter: None,  # noqa: F811
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    page = wide_page
    tess = make_staff("Tess Tech", level="L1")
    known = _ticket(
        db,
        title="Nobody at Brightside can connect to the VPN",
        body="Three users report FortiClient login failures since this morning.",
        client="Brightside Legal",
        category="vpn",
        runbook="vpn-auth-failure",
        facts={"vpn": "FortiGate SSL-VPN"},
    )
    sign_in_as(page, tess)
    page.goto(f"/tickets/{known}")
    _start(page, "vpn-auth-failure", {"Affected user (UPN)": "ana@brightside.example"})
    box = runner(page)
    expect(box.locator(".tp-step-kind")).to_have_text("Step 1 · Check")
    expect(box.get_by_role("heading", name="Scope")).to_be_visible()
    # A second tab left open on the first step, to answer it late.
    stale = _new_page(browser.new_context(base_url=live.url, viewport=WIDE), browser_log)
    sign_in_as(stale, tess)
    stale.goto(f"/tickets/{known}")

    answer(page, "scope", "Several or all users")
    # The profile knows the VPN: that check is answered, and the run is one step further.
    expect(box.locator("input[name=step]")).to_have_value("fortios-version")
    expect(box.locator(".tp-step-kind")).to_have_text("Step 3 · Check")
    profile = box.locator(".tp-path-profile")
    expect(profile).to_have_count(1)
    expect(profile).to_contain_text("answered from the client profile (vpn = FortiGate SSL-VPN)")
    expect(box.locator(".tp-path li").nth(1)).to_contain_text("VPN type")

    # The late answer in the other tab is refused with the service's words, nothing moves.
    stale_box = runner(stale)
    stale_box.get_by_role("button", name="Only this user", exact=True).click()
    expect(stale_box.get_by_role("alert")).to_contain_text(
        "step 'scope' was already answered 'Several or all users'"
    )
    stale.context.close()

    # "change" steps back to the profile's answer; it is marked, one click confirms it.
    profile.get_by_role("button", name="Change the answer to VPN type").click()
    expect(box.locator("input[name=step]")).to_have_value("vpn-type")
    expect(box.locator(".tp-fact")).to_contain_text("vpn = FortiGate SSL-VPN")
    expect(box.locator(".tp-profile-tag")).to_have_count(1)
    marked = box.get_by_role("button", name="FortiGate SSL-VPN", exact=True)
    expect(marked).to_have_class(re.compile(r"^(?!.*secondary)"))
    expect(box.get_by_role("button", name="FortiGate IPsec dial-up")).to_have_class(
        re.compile("secondary")
    )
    expect(box.get_by_label(re.compile("profile"))).to_have_count(0)  # nothing to save
    expect(page.locator("#history")).to_contain_text("taken back")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "runner-profile.png")
    marked.click()
    expect(box.locator("input[name=step]")).to_have_value("fortios-version")

    answer(page, "fortios-version", "An older FortiOS")
    answer(page, "recent-change", "No change")
    # Back works as before, and the same answer can be given again.
    box.get_by_role("button", name="Step back").click()
    expect(box.locator("input[name=step]")).to_have_value("recent-change")
    answer(page, "recent-change", "No change")
    answer(page, "auth-server", "Test succeeds")
    answer(page, "gateway-certificate", "Valid")
    expect(box.locator(".tp-outcome")).to_contain_text("Runbook outcome: escalate to L2")
    expect(page.locator("#escalation .verdict")).to_have_text("Escalation allowed: Yes — to L2")
    assert _priority(db, known) == "normal"

    # Another client has no VPN on file: the answer is saved to its profile.
    unknown = _ticket(
        db,
        title="VPN down for everyone at Acme",
        body="Nobody can connect from home.",
        client="Acme Dental",
        category="vpn",
        runbook="vpn-auth-failure",
    )
    page.goto(f"/tickets/{unknown}")
    _start(page, "vpn-auth-failure", {"Affected user (UPN)": "dana@acme-dental.example"})
    answer(page, "scope", "Several or all users")
    expect(box.locator("input[name=step]")).to_have_value("vpn-type")
    expect(box.locator(".tp-fact")).to_have_count(0)
    save = box.get_by_label("Save this answer to Acme Dental's profile")
    expect(save).not_to_be_checked()
    save.check()
    answer(page, "vpn-type", "FortiGate IPsec dial-up")
    expect(page.locator("#history")).to_contain_text(
        "client profile: vpn = FortiGate IPsec dial-up"
    )
    with db.unit_of_work() as session:
        ticket = session.get(Ticket, unknown)
        assert ticket is not None
        assert facts_of(session, ticket.client_id) == {"vpn": "FortiGate IPsec dial-up"}
    assert browser_log.dialogs == []


def test_backup_warning_with_a_huge_change_rate_reaches_the_owner_as_an_emergency(
    wide_page: Page,
    phone_page: Page,
    db: Database,
    starter: None,  # noqa: F811
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    page = wide_page
    tess = make_staff("Tess Tech", level="L1")
    ticket_id = _ticket(
        db,
        title="Veeam job warning on FS01",
        body="Nightly job finished with a warning; it read 410 GB where it usually reads 12 GB.",
        client="Brightside Legal",
        category="backup",
        runbook="backup-missing",
        facts={"backup": "Veeam"},
    )
    assert _priority(db, ticket_id) == "normal"
    sign_in_as(page, tess)
    page.goto(f"/tickets/{ticket_id}")
    _start(page, "backup-missing", {"Client": "Brightside Legal", "Protected device": "FS01"})
    box = runner(page)
    # The product came from the profile; the run starts at the job's status.
    expect(box.locator("input[name=step]")).to_have_value("job-status")
    expect(box.locator(".tp-path-profile")).to_contain_text("backup = Veeam")
    answer(page, "job-status", "Completed with a warning")
    answer(
        page,
        "warning-kind",
        "Unusually large change rate or backup size, or a malware or suspicious-activity flag",
    )
    answer(page, "ransomware-check", "Yes, signs of encryption, a ransom note or an EDR detection")

    emergency = box.get_by_role("alert")
    expect(emergency).to_contain_text("Emergency: escalate to the owner now")
    expect(box.locator(".tp-outcome")).to_have_count(0)
    expect(page.locator("#ticket-head .badges")).to_contain_text("Critical")
    panel = page.locator("#escalation")
    expect(panel.locator(".verdict")).to_have_text("Escalation allowed: Yes — to owner")
    expect(panel).to_contain_text("Emergency")
    assert _priority(db, ticket_id) == "critical"
    # The ending offers the escalation right there.
    expect(emergency.get_by_role("button", name="Escalate to owner now")).to_be_visible()
    # No done list to tick for an escalation: the done panel keeps the runbook-wide item.
    expect(page.locator("#done .tp-checklist li")).to_have_text(
        ["Root cause recorded in the ticket"]
    )
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "runner-emergency.png")

    sign_in_as(phone_page, tess)
    phone_page.goto(f"/tickets/{ticket_id}")
    block = runner(phone_page).locator(".tp-emergency")
    expect(block).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    block.scroll_into_view_if_needed()
    phone_page.screenshot(path=str(SCREENSHOTS / "runner-emergency-phone.png"))
    runner(phone_page).get_by_role("button", name="Escalate to owner now").click()
    expect(phone_page.locator("#ticket-head .badges")).to_contain_text("Owner")
    expect(phone_page.locator("#escalation").get_by_role("status")).to_contain_text(
        "Escalated to owner"
    )
    expect(runner(phone_page).get_by_role("button", name="Escalate to owner now")).to_have_count(0)
    assert browser_log.errors == []


def test_compromised_account_is_contained_at_once_by_l1_then_escalated(
    wide_page: Page,
    phone_page: Page,
    db: Database,
    starter: None,  # noqa: F811
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    page = wide_page
    tess = make_staff("Tess Tech", level="L1")
    make_staff("Sam Senior", level="L2")
    ticket_id = _ticket(
        db,
        title="Tom got MFA prompts he did not start",
        body="Tom approved one by mistake at 07:40, then got two more.",
        client="Northwind Logistics",
        category="mfa",
        runbook="mfa-problem",
    )
    sign_in_as(page, tess)
    page.goto(f"/tickets/{ticket_id}")
    _start(page, "mfa-problem", {"Affected user (UPN)": "tom@northwind.example"})
    box = runner(page)
    answer(page, "problem-type", "Prompts or sign-in alerts the user did not start")
    expect(box.locator(".tp-edge")).to_contain_text("Contain anyway")
    answer(page, "suspicious-prompts", "The user approved a prompt they did not start")

    # Containment is inside L1's boundary: approved by policy, nothing to wait for.
    expect(box.locator(".tp-step-kind")).to_have_text("Step 3 · Action")
    expect(box.get_by_role("heading", name="Contain")).to_be_visible()
    expect(box.locator(".tp-approval")).to_contain_text("Approved by policy")
    expect(box.locator(".tp-blocked")).to_have_count(0)
    expect(page.locator("#ticket-head .badges")).not_to_contain_text("Waiting on approval")
    answer(page, "contain", "Sign-in blocked, sessions revoked, password reset")
    expect(box.get_by_role("heading", name="Contain: methods")).to_be_visible()
    answer(page, "contain.methods", "Unknown methods found and deleted (screenshot in the ticket)")
    answer(page, "contain.mail-rules", "Forwarding, redirect or hiding rules found and disabled")
    sign_in_as(phone_page, tess)
    phone_page.goto(f"/tickets/{ticket_id}")
    runner(phone_page).locator(".tp-step").scroll_into_view_if_needed()
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone_page.screenshot(path=str(SCREENSHOTS / "runner-phone.png"))
    answer(page, "contain.data-check", "No sign of data leaving")

    expect(box.locator(".tp-outcome")).to_contain_text("Runbook outcome: escalate to L2")
    panel = page.locator("#escalation")
    expect(panel.locator(".verdict")).to_have_text("Escalation allowed: Yes — to L2")
    panel.get_by_label("Handover note for L2").fill("Contained; no sign of data leaving.")
    panel.get_by_role("button", name="Escalate to L2").click()
    expect(panel.get_by_role("status")).to_contain_text("Escalated to L2")
    expect(page.locator("#ticket-head .badges")).to_contain_text("Escalated")
    history = page.locator("#history")
    expect(history).to_contain_text("approved by boundary")
    expect(history).not_to_contain_text("waiting on L2")
    assert browser_log.errors == []


@pytest.mark.parametrize(
    ("step", "title"),
    [
        ("check-certificate", "Check certificate"),
        ("vpn-type", "VPN type"),
        ("fortios-version", "FortiOS version"),
        ("contain.data-check", "Contain: data check"),
        ("verify", "Verify"),
        ("restart_vss_writer", "Restart VSS writer"),
        ("ip", "IP"),
    ],
)
def test_step_ids_read_as_words(step: str, title: str) -> None:
    assert step_title(step) == title
