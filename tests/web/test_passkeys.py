"""Passkeys with Chromium's virtual authenticator (CDP WebAuthn domain): add one, sign in
with it alone, and use it as the second factor after a password."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from franchise.accounts.models import PasskeyCredential, SignInEvent
from franchise.accounts.service import get_staff
from franchise.db import Database
from franchise.flows.staff import deactivate_staff
from tests.web.conftest import LiveServer, Member


@pytest.fixture
def localhost_page(browser: Browser, live: LiveServer) -> Iterator[Page]:
    # WebAuthn needs a domain as relying party: 127.0.0.1 is an address, localhost a name.
    base = live.url.replace("127.0.0.1", "localhost")
    context = browser.new_context(base_url=base)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    yield page
    context.close()


def test_a_passkey_is_added_then_signs_in_alone_and_as_second_factor(
    localhost_page: Page,
    live: LiveServer,
    make_staff: Callable[..., Member],
    session_cookie: Callable[[Member], dict[str, str]],
    db: Database,
) -> None:
    page = localhost_page
    tess = make_staff()
    base = live.url.replace("127.0.0.1", "localhost")
    page.context.add_cookies(
        [
            {
                "name": "franchise_session",
                "value": session_cookie(tess)["franchise_session"],
                "url": base,
            }
        ]
    )
    page.goto("/account")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page).to_have_url(re.compile(r"/account\?passkey=added"))
    expect(page.locator("#passkeys")).to_contain_text("Passkey · added")
    with db.unit_of_work() as session:
        assert len(session.scalars(select(PasskeyCredential)).all()) == 1

    # Without a password: the passkey alone (possession plus the device's verification).
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(re.compile(r"/queue$"))

    # With a password, the passkey is now the second factor that is asked for.
    page.context.clear_cookies()
    page.goto("/login?next=/approvals")
    page.get_by_label("E-mail").fill(tess.email)
    page.get_by_label("Password").fill(tess.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/login/mfa"))
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(re.compile(r"/approvals$"))

    with db.unit_of_work() as session:
        log = [
            (e.method, e.outcome)
            for e in session.scalars(select(SignInEvent).order_by(SignInEvent.id))
        ]
    assert log == [("passkey", "success"), ("passkey", "success")]

    # Deactivated: the passkey no longer signs in.
    with db.unit_of_work() as session:
        deactivate_staff(session, get_staff(session, tess.id), by=None)
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.locator("#passkey-status")).to_contain_text("not active")
    expect(page).to_have_url(re.compile(r"/login$"))
    assert not any(c["name"] == "franchise_session" for c in page.context.cookies())
