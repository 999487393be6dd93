"""Staff lifecycle in the browser: the owner edits a technician, hands their ticket on,
deactivates them (their open page stops working at once), and issues a reset link that the
person uses once; a password sign-in is refused while deactivated; self-service change."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect

from franchise.accounts.service import create_token, get_staff, list_staff
from franchise.accounts.signins import record_sign_in
from franchise.db import Database
from franchise.flows.staff import deactivate_staff
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

    # Deactivating asks first, counting what ends and what is left to hand on.
    page.get_by_role("button", name="Deactivate Tess Tech").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deactivate Tess Tech?")
    confirm = page.locator("#deactivate-confirm")
    expect(confirm).to_contain_text("1 browser session ends now")
    expect(confirm).to_contain_text("0 API tokens are revoked")
    expect(confirm.locator("#deactivate-tickets")).to_contain_text("1 open ticket stays assigned")
    page.get_by_role("button", name="Yes, deactivate Tess Tech").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Tess Tech is deactivated: 1 session ended, 0 API tokens revoked. "
        "1 open ticket to hand on below."
    )
    expect(page.locator("#open-tickets")).to_contain_text("VPN down for Dana")
    screenshot(page, "staff-member.png")
    # Her next click lands on the sign-in page.
    tess_page.reload()
    expect(tess_page).to_have_url(re.compile(r"/login"))

    # Nobody is picked for her tickets by default, least of all the owner.
    reassign_all = page.locator("#open-tickets").get_by_label("Reassign all 1 to")
    expect(reassign_all).to_have_value("")
    reassign_all.select_option(str(sam.id))
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


def test_a_leavers_tickets_are_handed_to_nobody_by_default(
    page: Page,
    db: Database,
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    tess = make_staff("Tess Tech")
    make_staff("Sam Senior", level="L2")
    lee = make_staff("Lee Learner")
    with db.unit_of_work() as session:
        leaver = get_staff(session, tess.id)
        ids = []
        for title in ("VPN down for Dana", "Printer jammed"):
            ticket = create_ticket(session, title=title, category="vpn")
            lifecycle.assign(session, ticket, leaver, by=None)
            ids.append(ticket.id)
        deactivate_staff(session, leaver, by=None)

    sign_in_as(page, owner)
    page.goto(f"/staff/{tess.id}")
    tickets = page.locator("#open-tickets")
    everyone = tickets.get_by_label("Reassign all 2 to")
    one = tickets.get_by_label(f"Reassign ticket #{ids[0]} to")
    for picker in (everyone, one):
        # "Choose…" and required: the owner (or anyone) is never picked by a missed click.
        expect(picker).to_have_value("")
        assert picker.evaluate("el => el.required")
        options = picker.locator("option").all_inner_texts()
        # The same level first, the owner last.
        assert options == [
            "Choose…", "Lee Learner (L1)", "Sam Senior (L2)", "Olivia Owner (owner)",
        ]  # fmt: skip
    tickets.get_by_role("button", name="Reassign all").click()
    assert everyone.evaluate("el => el.validity.valueMissing")
    expect(page.get_by_role("status")).to_have_count(0)
    # Past the browser's check (an old page, a script), the server refuses it by name.
    everyone.evaluate("el => el.removeAttribute('required')")
    tickets.get_by_role("button", name="Reassign all").click()
    expect(page.get_by_role("alert")).to_contain_text("Reassign to: choose who takes the tickets")

    page.locator("#open-tickets").get_by_label(f"Reassign ticket #{ids[0]} to").select_option(
        str(lee.id)
    )
    page.locator("#open-tickets").get_by_role("button", name="Reassign", exact=True).first.click()
    expect(page.get_by_role("status")).to_contain_text("1 ticket reassigned to Lee Learner.")
    with db.unit_of_work() as session:
        assert lifecycle_assignee(session, ids[0]) == lee.id
        assert lifecycle_assignee(session, ids[1]) == tess.id


def test_deactivating_asks_first_without_javascript(
    browser_page_no_js: Page,
    db: Database,
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    page = browser_page_no_js
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    tess = make_staff("Tess Tech")
    with db.unit_of_work() as session:
        create_token(session, staff=get_staff(session, tess.id), name="script")
    sign_in_as(page, owner)
    page.goto(f"/staff/{tess.id}")
    page.get_by_role("button", name="Deactivate Tess Tech").click()
    confirm = page.locator("#deactivate-confirm")
    expect(confirm).to_contain_text("1 API token is revoked for good")
    expect(confirm).to_contain_text("They have no open tickets.")
    # Nothing has happened yet; Cancel leaves her as she was.
    with db.unit_of_work() as session:
        assert get_staff(session, tess.id).active
    confirm.get_by_role("button", name="Cancel").click()
    expect(page).to_have_url(re.compile(rf"/staff/{tess.id}$"))
    page.get_by_role("button", name="Deactivate Tess Tech").click()
    page.get_by_role("button", name="Yes, deactivate Tess Tech").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Tess Tech is deactivated: 0 sessions ended, 1 API token revoked."
    )
    with db.unit_of_work() as session:
        assert not get_staff(session, tess.id).active


def test_a_technician_at_the_owner_level_is_refused_on_the_form(
    page: Page,
    db: Database,
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    sign_in_as(page, owner)
    page.goto("/staff")
    page.get_by_label("Name").fill("Tia Tech")
    page.get_by_label("E-mail").fill("tia@example.com")
    page.get_by_label("Role").select_option("technician")
    page.get_by_label("Level").select_option("owner")
    page.get_by_label("Initial password").fill("a long enough passphrase")
    page.get_by_role("button", name="Add staff member").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Role and Level: the owner level is for the owner role only"
    )
    expect(page.get_by_label("Level")).to_have_value("owner")  # what was chosen is kept
    with db.unit_of_work() as session:
        assert "tia@example.com" not in {s.email for s in list_staff(session)}


LONG_EMAIL = "maximilian.featherstonehaugh@support.northwindmanagedservicesandconsulting.example"


def test_long_addresses_wrap_on_a_phone_and_a_desktop(
    page: Page,
    phone_page: Page,
    db: Database,
    make_staff: Callable[..., Member],
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    max_ = make_staff("Max F-W", email=LONG_EMAIL)
    with db.unit_of_work() as session:
        record_sign_in(session, email=LONG_EMAIL, method="password", outcome="failure")
        record_sign_in(session, email="x" * 70, method="password", outcome="failure")
    page.set_viewport_size({"width": 1400, "height": 900})
    for view, width in ((phone_page, 390), (page, 1400)):
        sign_in_as(view, owner)
        for path in ("/staff", f"/staff/{max_.id}"):
            view.goto(path)
            expect(view.get_by_role("heading", level=1)).to_be_visible()
            assert view.evaluate("document.documentElement.scrollWidth") <= width, path
            for box in view.locator(".staff-email").all():
                # Inside its card, not only inside the window.
                spill = box.evaluate(
                    "el => el.getBoundingClientRect().right"
                    " - el.closest('.card, .page-head').getBoundingClientRect().right"
                )
                assert spill <= 0, f"{path}: an address runs {spill}px past its card"
        view.get_by_role("button", name="Deactivate Max F-W").click()
        expect(view.get_by_role("heading", level=1)).to_have_text("Deactivate Max F-W?")
        assert view.evaluate("document.documentElement.scrollWidth") <= width


def lifecycle_assignee(session: object, ticket_id: int) -> int | None:
    from sqlalchemy.orm import Session

    from franchise.tickets.models import Ticket

    assert isinstance(session, Session)
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None
    return ticket.assignee_id
