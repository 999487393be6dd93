"""The acceptance scenario in the browser: an L1 technician works a VPN ticket from open to
resolved on the ticket page alone (runbook, approval, client e-mail, done list), then tries
to ask the owner during an owner-offline drill."""

from __future__ import annotations

import email
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from playwright.sync_api import Locator, Page, expect

from franchise.bootstrap import initialise
from franchise.clients.models import ClientContact
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.drills.service import start_drill
from franchise.flows.opening import open_ticket
from franchise.suggest.service import index_for
from tests.web.conftest import BrowserLog, LiveServer, Member, screenshot

CONTACT = "dana.lee@acme-dental.example"
VPN_TITLE = "VPN won't connect for Dana: certificate error"
VPN_BODY = "Dana gets 'certificate expired' in FortiClient when working from home since Monday."
# The runbook-wide items, then the certificate ending's own.
DONE_ITEMS = (
    "Root cause and fix recorded in the ticket",
    "User confirmed the fix",
    "User connected and reached an internal resource (file share or line-of-business app)",
    "Tunnel stable for 15 minutes",
    "New certificate expiry date recorded in the ticket",
)


# --- fixtures (the ticket page tests import these) -------------------------------------------


@pytest.fixture
def starter(db: Database) -> None:
    """The shipped runbooks, escalation map, boundaries and templates."""
    with db.unit_of_work() as session:
        initialise(session)
        # Built once per run (and cached) here, so the first page load is not the one
        # that pays for building the index.
        index_for(session)


@pytest.fixture
def make_vpn_ticket(db: Database, starter: None) -> Callable[..., int]:
    """A VPN ticket for a client whose primary contact has an e-mail address."""

    def make(
        title: str = VPN_TITLE,
        body: str = VPN_BODY,
        client: str = "Acme Dental",
        category: str | None = None,
    ) -> int:
        with db.unit_of_work() as session:
            row = add_client(session, name=client, tier="standard", endpoints=25)
            session.add(
                ClientContact(client_id=row.id, name="Dana Lee", email=CONTACT, is_primary=True)
            )
            ticket, _ = open_ticket(
                session, title=title, body=body, client=row.id, category=category
            )
            return ticket.id

    return make


@dataclass
class Mailbox:
    """An aiosmtpd handler keeping every message it accepts."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(  # noqa: N802 - the name aiosmtpd calls
        self, server: SMTP, session: SmtpSession, envelope: Envelope
    ) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        self.messages.append(email.message_from_bytes(content))
        return "250 Message accepted for delivery"


@pytest.fixture
def mailbox(live: LiveServer) -> Iterator[Mailbox]:
    """A real SMTP server on loopback, and the live server's settings pointed at it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    original = live.app.state.settings
    live.app.state.settings = original.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_tls": "none",
            "smtp_from": "Northwind IT <help@northwind-it.example>",
        }
    )
    try:
        yield box
    finally:
        live.app.state.settings = original
        controller.stop()


# --- helpers ---------------------------------------------------------------------------------


def runner(page: Page) -> Locator:
    return page.locator("#runner")


def answer(page: Page, step: str, reply: str, note: str = "") -> None:
    """Answer the runner's current step (checked first) and wait for the next one."""
    box = runner(page)
    expect(box.locator("input[name=step]")).to_have_value(step)
    if note:
        box.get_by_label("Note / evidence").fill(note)
    box.get_by_role("button", name=reply, exact=True).click()
    expect(box.locator(f"input[name=step][value='{step}']")).to_have_count(0)


def start_vpn_run(page: Page, user: str = "dana.lee@acme-dental.example") -> None:
    suggestion = page.locator(".tp-suggestion", has_text="vpn-auth-failure")
    expect(suggestion).to_have_attribute("open", "")
    suggestion.get_by_label("Affected user (UPN)").fill(user)
    suggestion.get_by_label("Device name (RMM)").fill("ACME-LT-014")
    suggestion.get_by_role("button", name="Start this runbook").click()
    expect(runner(page).locator("input[name=step]")).to_have_value("scope")


# --- the scenario ----------------------------------------------------------------------------


def test_l1_resolves_the_vpn_ticket_through_the_expired_certificate_branch(
    page: Page,
    db: Database,
    make_staff: Callable[..., Member],
    make_vpn_ticket: Callable[..., int],
    sign_in_as: Callable[[Page, Member], None],
    mailbox: Mailbox,
    browser_log: BrowserLog,
) -> None:
    tess = make_staff("Tess Tech", level="L1")
    make_staff("Sam Senior", level="L2")
    ticket_id = make_vpn_ticket()
    sign_in_as(page, tess)
    page.goto(f"/tickets/{ticket_id}")
    panel = page.locator("#escalation")
    expect(panel.locator(".verdict")).to_have_text("Escalation allowed: No")
    expect(panel).to_contain_text("scope")

    start_vpn_run(page)
    expect(runner(page).locator(".tp-inputs")).to_contain_text("dana.lee@acme-dental.example")
    expect(runner(page).locator(".tp-where")).to_contain_text("Firewall admin")
    answer(page, "scope", "Only this user", note="Only Dana in the FortiGate VPN log.")
    answer(
        page, "client-error", "Certificate invalid, expired or not found", note="Expired 02 Mar."
    )

    # The action step asked for approval as soon as it was reached: inside the L1 boundary.
    approval = runner(page).locator(".tp-approval")
    expect(approval).to_contain_text("Approved by policy")
    expect(approval).to_contain_text("Estimate: 20 min")
    expect(runner(page).get_by_role("button", name="User connected")).to_be_enabled()
    expect(page.locator("#escalation .verdict")).to_have_text("Escalation allowed: No")
    expect(page.locator("#escalation .tp-pending")).to_contain_text("renew-certificate")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "ticket.png")
    answer(page, "renew-certificate", "User connected", note="New expiry 2027-03-02.")
    expect(runner(page).locator(".tp-outcome")).to_contain_text("Runbook outcome: resolved")
    history = page.locator("#history")
    expect(history).to_contain_text("approved by boundary")
    expect(history).to_contain_text(
        "answered client-error: Certificate invalid, expired or not found"
    )
    expect(history).to_contain_text("Expired 02 Mar.")

    # The resolved message for this runbook, previewed live and sent by real SMTP.
    composer = page.locator("#composer")
    template = composer.get_by_label("Template")
    expect(template).to_have_value("vpn-reconnect-resolved")
    preview = composer.locator("#message-preview")
    expect(preview).to_contain_text(f"[#{ticket_id}] Your VPN connection is working again")
    expect(preview).to_contain_text(CONTACT)
    template.select_option("need-client-reply")
    expect(preview.locator(".tp-subject")).not_to_contain_text("working again")
    template.select_option("vpn-reconnect-resolved")
    expect(preview).to_contain_text("working again")
    composer.get_by_role("button", name="Send e-mail").click()
    expect(composer.get_by_role("status")).to_contain_text(f"Sent to {CONTACT}")
    assert len(mailbox.messages) == 1
    sent = mailbox.messages[0]
    assert f"#{ticket_id}" in str(sent["Subject"])
    assert sent["To"] == CONTACT
    expect(history).to_contain_text(f"e-mailed {CONTACT}")

    # Resolve stays refused until the done list is ticked, in the page and on the server.
    done = page.locator("#done")
    resolve = done.get_by_role("button", name="Resolve ticket")
    expect(resolve).to_be_disabled()
    token = done.locator("input[name=csrf_token]").first.input_value()
    refused = page.request.post(
        f"/tickets/{ticket_id}/resolve", form={"csrf_token": token}, max_redirects=0
    )
    assert refused.status == 409
    assert "cannot be resolved yet" in refused.text()
    expect(done).not_to_contain_text("Resolve anyway")  # L1 may not override
    for number, item in enumerate(DONE_ITEMS, 1):
        done.get_by_role("button", name=item).click()
        expect(done).to_contain_text(f"{number} of {len(DONE_ITEMS)} ticked")
    expect(resolve).to_be_enabled()
    resolve.click()
    expect(done.get_by_role("status")).to_contain_text("Resolved")
    expect(page.locator("#ticket-head .badges")).to_contain_text("Resolved")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "ticket-resolved.png")
    assert browser_log.errors == []
    assert browser_log.dialogs == []

    # Later, during an owner-offline drill, the same technician tries to reach the owner.
    with db.unit_of_work() as session:
        start_drill(session, days=3)
    page.reload()
    ask = page.locator("#ask")
    expect(ask.locator(".tp-drill")).to_contain_text("Owner-offline drill")
    ask.get_by_label("Reason").select_option("technical_decision")
    ask.get_by_label("Question").fill("Should we move Acme to certificate-less VPN sign-in?")
    ask.get_by_role("button", name="Ask the owner").click()
    refusal = ask.get_by_role("alert")
    expect(refusal).to_contain_text("Refused: the owner is offline for drill #")
    # Said once, in words and a time a person reads.
    expect(refusal).not_to_contain_text("Refused: the owner is offline for a drill. Refused")
    expect(refusal).not_to_contain_text("+00:00")
    expect(refusal).to_contain_text("L2 on duty: Sam Senior")
    expect(history).to_contain_text("asked the owner")
    expect(history).to_contain_text("refused")


def test_escalation_panel_goes_from_no_to_yes_owner_on_the_domain_controller_branch(
    page: Page,
    make_staff: Callable[..., Member],
    make_vpn_ticket: Callable[..., int],
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    tess = make_staff("Tess Tech", level="L1")
    ticket_id = make_vpn_ticket(
        title="Nobody at Acme can connect to the VPN",
        body="All remote staff fail to sign in.",
        # Too few words for the match to attach the VPN runbook on its own (it is offered);
        # the technician files it under VPN.
        category="vpn",
    )
    sign_in_as(page, tess)
    page.goto(f"/tickets/{ticket_id}")
    panel = page.locator("#escalation")
    expect(panel.locator(".verdict")).to_have_text("Escalation allowed: No")
    expect(panel.locator(".tp-pending")).to_contain_text("scope")

    # Escalating now would be refused, so no button is offered: the step to do instead is.
    expect(panel.get_by_role("button")).to_have_count(0)

    start_vpn_run(page)
    answer(page, "scope", "Several or all users")
    answer(page, "vpn-type", "FortiGate IPsec dial-up")
    answer(page, "recent-change", "No change")
    answer(
        page,
        "auth-server",
        "Domain controller down: offline in the RMM, not answering, and sign-ins fail everywhere",
    )
    expect(runner(page).locator(".tp-emergency")).to_contain_text(
        "Emergency: escalate to the owner now"
    )
    expect(panel.locator(".verdict")).to_have_text("Escalation allowed: Yes — to owner")
    expect(panel).to_contain_text("runbook:vpn-auth-failure/dc-trouble")
    expect(panel).to_contain_text("Emergency")
    panel.get_by_role("button", name="Escalate to owner").click()
    expect(page.locator("#ticket-head .badges")).to_contain_text("Escalated")
    expect(page.locator("#ticket-head .badges")).to_contain_text("Owner")
    expect(panel.get_by_role("status")).to_contain_text("Escalated to owner")


HOSTILE = "<script>alert(1)</script> {{ 7*7 }} <img src=x onerror=alert(2)>"


def test_user_text_in_title_body_notes_and_lessons_is_shown_as_typed(
    page: Page,
    make_staff: Callable[..., Member],
    make_vpn_ticket: Callable[..., int],
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
) -> None:
    tess = make_staff("Tess Tech", level="L1")
    ticket_id = make_vpn_ticket(title=f"VPN {HOSTILE}", body=f"FortiClient says {HOSTILE}")
    sign_in_as(page, tess)
    page.goto(f"/tickets/{ticket_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"#{ticket_id} VPN {HOSTILE}")
    expect(page.locator(".ticket-body")).to_have_text(f"FortiClient says {HOSTILE}")
    start_vpn_run(page, user=HOSTILE)
    expect(runner(page).locator(".tp-inputs")).to_contain_text(HOSTILE)
    answer(page, "scope", "Only this user", note=f"Note {HOSTILE}")
    expect(runner(page).locator(".tp-path-note")).to_have_text(f"Note {HOSTILE}")
    expect(page.locator("#history")).to_contain_text(f"Note {HOSTILE}")
    lesson = page.locator("#lesson")
    lesson.get_by_label("What did this ticket teach us?").fill(f"Lesson {HOSTILE}")
    lesson.get_by_role("button", name="Add lesson").click()
    expect(lesson.locator(".tp-lessons")).to_contain_text(f"Lesson {HOSTILE}")
    # The client message fills the title in a sandbox; its braces are text, not template.
    expect(page.locator("#message-preview")).to_contain_text("{{ 7*7 }}")
    html = page.content()
    assert "<script>alert(1)</script>" not in html
    assert not re.search(r"<img src=.?x", html)
    assert browser_log.dialogs == []
    assert browser_log.errors == []
