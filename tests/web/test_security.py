"""Server-side guards: sign-in required, manager pages, CSRF, escaping, cookies, throttling."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from franchise.db import Database
from franchise.tickets.service import create_ticket
from franchise.web.throttle import Limit, LoginThrottle
from tests.web.conftest import BrowserLog, LiveServer, Member, QueueData

Cookie = Callable[[Member], dict[str, str]]
ClientAs = Callable[[Member], httpx.Client]


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    """A plain HTTP client, no browser: what the server refuses, it refuses to anyone."""
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=10) as client:
        yield client


@pytest.fixture
def client_as(live: LiveServer, session_cookie: Cookie) -> Iterator[ClientAs]:
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


def _csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _page_paths(live: LiveServer) -> list[str]:
    pages: set[str] = live.app.state.web_pages
    return sorted(
        # The sign-in steps (/login, /login/mfa, /login/sso...) are open before sign-in, and
        # a password-reset link is its own credential (a bad one is refused: 403).
        re.sub(r"\{[^}]+\}", "1", p)
        for p in pages
        if not p.startswith(("/login", "/reset/")) and p != "/logout"
    )


def test_anonymous_visitors_are_sent_to_login_from_every_page(
    live: LiveServer, http: httpx.Client
) -> None:
    paths = _page_paths(live)
    assert {"/", "/queue", "/tickets/1", "/staff"} <= set(paths)
    assert http.get("/reset/1.2.not-a-signature-at-all-000").status_code == 403
    for path in paths:
        response = http.get(path, params={"x": "1"})
        assert response.status_code == 303, path
        assert (
            response.headers["location"]
            == "/login?" + httpx.QueryParams({"next": f"{path}?x=1"}).__str__()
        ), path


def test_after_sign_in_the_visitor_lands_where_they_were_going(
    page: Page, queue_data: QueueData
) -> None:
    ticket = queue_data.ticket_ids["mfa"]
    page.goto(f"/tickets/{ticket}")
    assert "/login?next=" in page.url
    page.get_by_label("E-mail").fill(queue_data.tech.email)
    page.get_by_label("Password").fill(queue_data.tech.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("MFA prompts not arriving")


def test_login_never_redirects_off_site(
    http: httpx.Client, make_staff: Callable[..., Member]
) -> None:
    tess = make_staff()
    token = _csrf_token(http.get("/login").text)
    for evil in ("//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:x"):
        response = http.post(
            "/login",
            data={
                "email": tess.email,
                "password": tess.password,
                "csrf_token": token,
                "next": evil,
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/"


def test_technician_is_refused_the_staff_page(
    page: Page,
    queue_data: QueueData,
    sign_in_as: Callable[[Page, Member], None],
    client_as: ClientAs,
) -> None:
    sign_in_as(page, queue_data.tech)
    response = page.goto("/staff")
    assert response is not None
    assert response.status == 403
    expect(page.locator(".error-card")).to_contain_text("Only the owner or an admin")

    tech = client_as(queue_data.tech)
    assert tech.get("/staff").status_code == 403
    attempt = tech.post(
        "/staff",
        data={
            "csrf_token": _csrf_token(tech.get("/queue").text),
            "name": "Sneaky",
            "email": "sneaky@example.com",
            "role": "admin",
            "level": "owner",
            "password": "a long enough password",
        },
    )
    assert attempt.status_code == 403
    owner_view = client_as(queue_data.owner).get("/staff")
    assert owner_view.status_code == 200
    assert "sneaky@example.com" not in owner_view.text


def _staff_form(email: str) -> dict[str, str]:
    return {
        "name": "Mallory",
        "email": email,
        "role": "technician",
        "level": "L1",
        "password": "a long enough password",
    }


def test_form_posts_without_the_csrf_token_are_refused(
    queue_data: QueueData, client_as: ClientAs, http: httpx.Client
) -> None:
    owner = client_as(queue_data.owner)
    missing = owner.post("/staff", data=_staff_form("a@example.com"))
    wrong = owner.post("/staff", data={**_staff_form("b@example.com"), "csrf_token": "guess"})
    for response in (missing, wrong):
        assert response.status_code == 403
        assert "This form expired" in response.text
    assert owner.post("/logout").status_code == 403
    assert owner.get("/queue").status_code == 200
    login = http.post("/login", data={"email": queue_data.owner.email, "password": "x"})
    assert login.status_code == 403
    listing = owner.get("/staff").text
    assert "a@example.com" not in listing
    assert "b@example.com" not in listing


def test_the_csrf_header_htmx_sends_is_accepted(queue_data: QueueData, client_as: ClientAs) -> None:
    owner = client_as(queue_data.owner)
    html = owner.get("/staff").text
    header = re.search(r'<body hx-headers=\'\{"X-CSRF-Token": "([^"]+)"\}\'>', html)
    assert header is not None
    added = owner.post(
        "/staff",
        headers={"X-CSRF-Token": header.group(1)},
        data=_staff_form("c@example.com"),
    )
    assert added.status_code == 303


def test_browser_form_without_its_token_gets_the_403_page(
    page: Page, queue_data: QueueData, sign_in_as: Callable[[Page, Member], None]
) -> None:
    sign_in_as(page, queue_data.owner)
    page.goto("/staff")
    page.locator("form[action='/staff'] input[name=csrf_token]").evaluate("e => e.remove()")
    # htmx would add the header from <body>; this is the plain-form path, so drop that too.
    page.locator("body").evaluate("b => b.removeAttribute('hx-headers')")
    form = page.locator("form[action='/staff']")
    form.get_by_label("Name").fill("Mallory")
    form.get_by_label("E-mail").fill("mallory@example.com")
    form.get_by_label("Initial password").fill("a long enough password")
    with page.expect_response("**/staff") as response:
        form.get_by_role("button", name="Add staff member").click()
    assert response.value.status == 403
    expect(page.locator(".error-card")).to_contain_text("This form expired")


HOSTILE = "<script>alert(1)</script> {{ 7*7 }} <img src=x onerror=alert(2)>"


def test_user_text_is_shown_as_typed_and_never_run(
    page: Page,
    db: Database,
    queue_data: QueueData,
    sign_in_as: Callable[[Page, Member], None],
    browser_log: BrowserLog,
    client_as: ClientAs,
) -> None:
    with db.unit_of_work() as session:
        ticket = create_ticket(session, title=HOSTILE, body=f"Body: {HOSTILE}")
    sign_in_as(page, queue_data.tech)
    page.goto("/queue")
    expect(page.locator(".queue-table")).to_contain_text(HOSTILE)
    page.goto(f"/tickets/{ticket.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"#{ticket.id} {HOSTILE}")
    expect(page.locator(".ticket-body")).to_have_text(f"Body: {HOSTILE}")
    assert page.title().startswith(f"#{ticket.id} {HOSTILE}")
    assert page.locator("img[src=x]").count() == 0
    assert browser_log.dialogs == []

    html = client_as(queue_data.tech).get(f"/tickets/{ticket.id}").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in html
    # Never evaluated: where the title and body are shown, "{{ 7*7 }}" stays as typed (a
    # bare "49" could be the ticket's own id or a time of day).
    assert "&lt;/script&gt; 49" not in html
    assert html.count("{{ 7*7 }}") == html.count("&lt;script&gt;alert(1)&lt;/script&gt;")


def test_session_cookie_is_httponly_lax_and_secure_over_https(
    live: LiveServer, make_staff: Callable[..., Member]
) -> None:
    tess = make_staff()
    for base_url, secure in (("http://franchise.test", False), ("https://franchise.test", True)):
        client = TestClient(live.app, base_url=base_url, follow_redirects=False)
        token = _csrf_token(client.get("/login").text)
        response = client.post(
            "/login", data={"email": tess.email, "password": tess.password, "csrf_token": token}
        )
        assert response.status_code == 303
        header = next(
            h for h in response.headers.get_list("set-cookie") if h.startswith("franchise_session=")
        )
        flags = {part.strip().lower() for part in header.split(";")[1:]}
        assert {"httponly", "samesite=lax"} <= flags
        assert ("secure" in flags) is secure


def test_repeated_wrong_passwords_slow_the_account_down(
    page: Page, live: LiveServer, make_staff: Callable[..., Member]
) -> None:
    # Two free tries instead of the real five keep this quick (each is a slow Argon2 check);
    # tests/security/test_login_throttle.py checks the real limits.
    live.app.state.login_throttle = LoginThrottle(
        account=Limit(free=2, cap_seconds=60, first_seconds=30)
    )
    tess = make_staff()
    page.goto("/login")
    for _ in range(3):
        page.get_by_label("E-mail").fill(tess.email)
        page.get_by_label("Password").fill("wrong guess")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    page.get_by_label("Password").fill(tess.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
    assert not any(c["name"] == "franchise_session" for c in page.context.cookies())


def test_api_routes_keep_their_json_errors(http: httpx.Client) -> None:
    for path, status in (("/api/v1/tickets", 401), ("/api/v1/no-such-route", 404)):
        response = http.get(path)
        assert response.status_code == status
        assert response.json()["ok"] is False
