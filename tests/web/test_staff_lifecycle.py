"""Staff lifecycle in the browser: the owner edits a technician, hands their ticket on,
deactivates them (their open page stops working at once), and issues a reset link that the
person uses once; a password sign-in is refused while deactivated; self-service change."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect

from franchise.accounts.service import get_staff
from franchise.db import Database
from franchise.tickets import lifecycle
from franchise.tickets.service import create_ticket
from tests.web.conftest import LiveServer, Member, screenshot


def test_owner_edits_deactivates_and_resets_a_technician(
    page: Page,
    browser: Browser,
    live: LiveServer,
    db: Database,
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    tess = make_staff("Tess Tech")
    sam = make_staff("Sam Senior", level="L2")
    with db.unit_of_work() as session:
        ticket = create_ticket(session, title="VPN down for Dana", category="vpn")
        lifecycle.assign(session, ticket, get_staff(session, tess.id), by=None)
        ticket_id = ticket.id

    # Tess is working in her own browser.
    tess_context = browser.new_context(base_url=live.url)
    tess_page = tess_context.new_page()
    sign_in_as(tess_page, tess)
    tess_page.goto("/queue")
    expect(tess_page.get_by_role("heading", level=1)).to_be_visible()

    sign_in_as(page, owner)
    page.goto("/staff")
    page.get_by_role("link", name="Tess Tech").click()
    expect(page).to_have_url(re.compile(rf"/staff/{tess.id}$"))
    page.get_by_label("Level").select_option("L2")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("Saved Tess Tech: Technician, L2.")

    page.get_by_role("button", name="Deactivate Tess Tech").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Tess Tech is deactivated: 1 session ended, 0 API tokens revoked. "
        "1 open ticket to hand on below."
    )
    expect(page.locator("#open-tickets")).to_contain_text("VPN down for Dana")
    screenshot(page, "staff-member.png")
    # Her next click lands on the sign-in page.
    tess_page.reload()
    expect(tess_page).to_have_url(re.compile(r"/login"))

    page.locator("#open-tickets").get_by_label("Reassign all 1 to").select_option(str(sam.id))
    page.get_by_role("button", name="Reassign all").click()
    expect(page.get_by_role("status")).to_contain_text("1 ticket reassigned to Sam Senior.")
    with db.unit_of_work() as session:
        assert lifecycle_assignee(session, ticket_id) == sam.id

    # Deactivated: the password no longer signs in.
    tess_page.goto("/login")
    tess_page.get_by_label("E-mail").fill(tess.email)
    tess_page.get_by_label("Password").fill(tess.password)
    tess_page.get_by_role("button", name="Sign in").click()
    expect(tess_page.get_by_role("alert")).to_contain_text("Wrong e-mail or password.")

    page.get_by_role("button", name="Reactivate").click()
    page.get_by_role("button", name="Create a password-reset link").click()
    link = page.get_by_label("Link to hand over").input_value()
    assert re.search(r"/reset/\d+\.\d+\.[\w-]+$", link)
    path = link[link.index("/reset/") :]

    tess_context.clear_cookies()
    tess_page.goto(path)
    expect(tess_page.get_by_role("heading", level=1)).to_have_text("Set a new password")
    tess_page.get_by_label("New password", exact=True).fill("password1234")
    tess_page.get_by_label("New password again").fill("password1234")
    tess_page.get_by_role("button", name="Set password").click()
    expect(tess_page.get_by_role("alert")).to_contain_text("commonly used")
    new = "tess picks a long new one"
    tess_page.get_by_label("New password", exact=True).fill(new)
    tess_page.get_by_label("New password again").fill(new)
    tess_page.get_by_role("button", name="Set password").click()
    expect(tess_page.get_by_role("status")).to_contain_text("Password set for Tess Tech.")
    tess_page.goto(path)  # used once: refused now
    expect(tess_page.get_by_role("alert")).to_contain_text("not valid")

    tess_page.goto("/login")
    tess_page.get_by_label("E-mail").fill(tess.email)
    tess_page.get_by_label("Password").fill(new)
    tess_page.get_by_role("button", name="Sign in").click()
    expect(tess_page).to_have_url(re.compile(r"/queue$"))

    # Self-service change on the account page: the current password is required.
    tess_page.goto("/account")
    form = tess_page.locator("#password")
    form.get_by_label("Current password").fill("not it at all")
    form.get_by_label("New password", exact=True).fill("another long passphrase")
    form.get_by_label("New password again").fill("another long passphrase")
    form.get_by_role("button", name="Change password").click()
    expect(tess_page.locator("#password").get_by_role("alert")).to_contain_text(
        "current password is not right"
    )
    form = tess_page.locator("#password")
    form.get_by_label("Current password").fill(new)
    form.get_by_label("New password", exact=True).fill("another long passphrase")
    form.get_by_label("New password again").fill("another long passphrase")
    form.get_by_role("button", name="Change password").click()
    expect(tess_page.locator("#password").get_by_role("status")).to_contain_text(
        "Password changed."
    )
    # Still signed in here, with a fresh session.
    tess_page.goto("/queue")
    expect(tess_page).to_have_url(re.compile(r"/queue$"))
    tess_context.close()


def lifecycle_assignee(session: object, ticket_id: int) -> int | None:
    from sqlalchemy.orm import Session

    from franchise.tickets.models import Ticket

    assert isinstance(session, Session)
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None
    return ticket.assignee_id
