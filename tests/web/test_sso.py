"""Single sign-on against a real OpenID provider on loopback (oidc-provider, run by Node).

scripts/install_test_peers.sh installs it into tests/fixtures/oidc/node_modules.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Request, Route, expect
from sqlalchemy import select

from franchise.accounts import sso
from franchise.accounts.models import SignInEvent
from franchise.accounts.service import get_staff
from franchise.db import Database
from franchise.flows.staff import deactivate_staff
from franchise.settings import Settings
from tests.web.conftest import LiveServer, Member

OIDC_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "oidc"
CLIENT_ID, CLIENT_SECRET = "franchise-tests", "a-client-secret-for-tests"
# Nothing listens here: the browser's visit fails, and the test takes the code from the URL.
HELD = "http://127.0.0.1:9/held-by-the-test"


@dataclass
class Provider:
    issuer: str
    settings: Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def provider_process(live_server: LiveServer) -> Iterator[str]:
    assert (OIDC_DIR / "node_modules" / "oidc-provider").exists(), (
        "the SSO tests need oidc-provider: run scripts/install_test_peers.sh"
    )
    port = _free_port()
    redirect = f"{live_server.url}/login/sso/callback,{HELD}"
    process = subprocess.Popen(
        ["node", "server.js", str(port), CLIENT_ID, CLIENT_SECRET, redirect],
        cwd=OIDC_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    issuer = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).is_success:
                break
        except httpx.HTTPError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, "oidc-provider did not start"
        time.sleep(0.1)
    yield issuer
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def provider(live: LiveServer, provider_process: str) -> Iterator[Provider]:
    before: Settings = live.app.state.settings
    settings = before.model_copy(
        update={
            "oidc_issuer": provider_process,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": CLIENT_SECRET,
            "oidc_name": "Test IdP",
        }
    )
    live.app.state.settings = settings
    yield Provider(provider_process, settings)
    live.app.state.settings = before


def _offline(route: Route) -> None:
    route.abort()


def _sign_in_at_provider(page: Page, login: str) -> None:
    # The provider's stock pages link a web font; with no network the browser would wait on
    # it and the consent button would never settle. Only loopback is reachable in tests.
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), _offline)
    page.goto("/login")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("anything")
    page.locator("button[type=submit]").click()
    consent = page.get_by_role("button", name="Continue")  # the consent page
    expect(consent).to_be_visible(timeout=15_000)
    consent.click(timeout=15_000)


def _log(db: Database) -> list[tuple[str, str, str]]:
    with db.unit_of_work() as session:
        return [
            (e.email, e.method, e.outcome)
            for e in session.scalars(select(SignInEvent).order_by(SignInEvent.id))
        ]


def test_staff_sign_in_with_the_provider_and_no_local_second_factor(
    page: Page, provider: Provider, make_staff: Callable[..., Member], db: Database
) -> None:
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    _sign_in_at_provider(page, owner.email)
    expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/dashboard$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert _log(db) == [(owner.email, "sso", "success")]


def test_an_unknown_email_is_not_signed_in(page: Page, provider: Provider, db: Database) -> None:
    _sign_in_at_provider(page, "stranger@example.com")
    expect(page.get_by_role("alert")).to_contain_text(
        "stranger@example.com is not on the staff list here"
    )
    assert not any(c["name"] == "franchise_session" for c in page.context.cookies())
    assert _log(db) == [("stranger@example.com", "sso", "failure")]


def test_a_deactivated_account_is_not_signed_in(
    page: Page, provider: Provider, make_staff: Callable[..., Member], db: Database
) -> None:
    tess = make_staff("Tess Tech")
    with db.unit_of_work() as session:
        deactivate_staff(session, get_staff(session, tess.id), by=None)
    _sign_in_at_provider(page, tess.email)
    expect(page.get_by_role("alert")).to_contain_text(f"the account of {tess.email} is deactivated")
    assert not any(c["name"] == "franchise_session" for c in page.context.cookies())
    assert _log(db) == [(tess.email, "sso", "failure")]


def test_an_answer_for_another_browser_is_refused(live: LiveServer, provider: Provider) -> None:
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=10) as client:
        started = client.get("/login/sso")
        assert started.status_code == 303
        assert started.headers["location"].startswith(f"{provider.issuer}/auth?")
        assert "code_challenge_method=S256" in started.headers["location"]
        answer = client.get("/login/sso/callback", params={"code": "x", "state": "forged"})
    assert answer.status_code == 403
    assert "does not belong to this browser (state)" in answer.text


def _segment(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _payload(token: str) -> dict[str, object]:
    part = token.split(".")[1]
    result: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return result


def test_tampered_tokens_and_a_wrong_nonce_are_refused(
    page: Page, live: LiveServer, provider: Provider, make_staff: Callable[..., Member]
) -> None:
    tess = make_staff()
    # The provider sends the code to HELD instead of Franchise: the test redeems it itself,
    # with the verifier of the flow Franchise started.
    settings = provider.settings.model_copy(update={"oidc_redirect_uri": HELD})
    live.app.state.settings = settings
    codes: list[str] = []

    def on_request(request: Request) -> None:
        if request.url.startswith(HELD):
            codes.append(httpx.URL(request.url).params["code"])

    page.on("request", on_request)
    _sign_in_at_provider(page, tess.email)
    deadline = time.monotonic() + 10
    while not codes and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    [cookie] = [c for c in page.context.cookies() if c["name"] == "franchise_sso"]
    flow = sso.Flow.unseal(settings, cookie["value"])
    config = sso.discover(settings)
    id_token = sso.exchange(
        settings, config, code=codes[0], redirect_uri=HELD, verifier=flow.verifier
    )
    key_set = sso.keys(config)

    def verify(token: str, *, nonce: str = flow.nonce, client_id: str = CLIENT_ID) -> str:
        return sso.verify_id_token(
            token, key_set=key_set, issuer=provider.issuer, client_id=client_id, nonce=nonce
        )

    assert verify(id_token) == tess.email
    with pytest.raises(sso.SsoRefused, match="nonce"):
        verify(id_token, nonce="another-sign-in")
    with pytest.raises(sso.SsoRefused, match="aud"):
        verify(id_token, client_id="another-client")
    header, _body, signature = id_token.split(".")
    forged = {**_payload(id_token), "email": "owner@example.com"}
    with pytest.raises(sso.SsoRefused, match="ID token was refused"):
        verify(f"{header}.{_segment(forged)}.{signature}")
    unsigned = _segment({"alg": "none", "typ": "JWT"})
    with pytest.raises(sso.SsoRefused, match="ID token was refused"):
        verify(f"{unsigned}.{_segment(forged)}.")
