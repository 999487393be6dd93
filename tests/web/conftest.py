"""Browser tests: the real app served by uvicorn on a free port, driven by Debian's Chromium.

One server per database backend serves every test; each test points it at its own `db`
(the connection inside a transaction that tests/conftest.py rolls back), so nothing a test
writes outlives it. Requests touching the database are served one at a time, because a single
connection must not be used by two threads at once.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    Response,
    sync_playwright,
)
from sqlalchemy import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from franchise.accounts.passwords import hash_password
from franchise.accounts.service import add_staff, get_staff
from franchise.accounts.sessions import start_session
from franchise.app import create_app
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.settings import Settings
from franchise.tickets import lifecycle
from franchise.tickets.service import change_ticket, create_ticket
from franchise.web.setup import install_web
from franchise.web.throttle import LoginThrottle

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct horse battery staple"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


class OneAtATime:
    """Serialises requests that may touch the shared test connection; static files run freely."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.lock = asyncio.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.loop = asyncio.get_running_loop()
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        async with self.lock:
            await self.app(scope, receive, send)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold off requests while the test thread uses the shared connection: needed when
        the open page polls the server on its own."""
        loop = self.loop
        if loop is None:  # nothing served yet, so nothing can be in flight
            yield
            return
        asyncio.run_coroutine_threadsafe(self.lock.acquire(), loop).result(timeout=30)
        try:
            yield
        finally:
            loop.call_soon_threadsafe(self.lock.release)


@dataclass
class LiveServer:
    app: FastAPI
    url: str
    gate: OneAtATime


@pytest.fixture(scope="session")
def live_server(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    app = create_app(Settings(home=tmp_path_factory.mktemp("web")), db=Database(engine))
    if not hasattr(app.state, "web_pages"):
        # Until create_app calls install_web itself: drop its "/" -> /docs redirect first.
        app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) != "/"]
        install_web(app)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    gate = OneAtATime(app)
    config = uvicorn.Config(gate, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    yield LiveServer(app=app, url=f"http://127.0.0.1:{port}", gate=gate)
    server.should_exit = True
    thread.join(timeout=5)
    sock.close()


@pytest.fixture
def live(live_server: LiveServer, db: Database) -> Iterator[LiveServer]:
    """The server, answering from this test's database transaction."""
    live_server.app.state.db = db
    live_server.app.state.login_throttle = LoginThrottle()
    yield live_server
    live_server.app.state.db = None


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    # A missing browser fails the run: `.ci/run` installs it, and a skip would hide the gap.
    assert Path(CHROMIUM).exists(), (
        f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
    )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@dataclass
class BrowserLog:
    dialogs: list[str]
    errors: list[str]


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog(dialogs=[], errors=[])


def _new_page(context: BrowserContext, log: BrowserLog) -> Page:
    page = context.new_page()
    page.set_default_timeout(5000)

    def on_dialog(dialog: Dialog) -> None:
        log.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)

    def on_console(message: ConsoleMessage) -> None:
        # Pages answered with 4xx on purpose show up here too; failing assets are caught below.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            log.errors.append(message.text)

    def on_response(response: Response) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            log.errors.append(f"{response.status} {response.url}")

    page.on("pageerror", lambda exc: log.errors.append(str(exc)))
    page.on("console", on_console)
    page.on("response", on_response)
    return page


@pytest.fixture
def page(browser: Browser, live: LiveServer, browser_log: BrowserLog) -> Iterator[Page]:
    context = browser.new_context(base_url=live.url, viewport=LAPTOP)
    yield _new_page(context, browser_log)
    context.close()


@pytest.fixture
def phone_page(browser: Browser, live: LiveServer, browser_log: BrowserLog) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live.url, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    yield _new_page(context, browser_log)
    context.close()


@dataclass
class Member:
    id: int
    name: str
    email: str
    password: str


@cache
def _password_hash() -> str:
    # Argon2 is slow on purpose; hashing once per run keeps the browser tests quick.
    return hash_password(PASSWORD)


@pytest.fixture
def make_staff(db: Database) -> Callable[..., Member]:
    def make(
        name: str = "Tess Tech", role: str = "technician", level: str = "L1", email: str = ""
    ) -> Member:
        email = email or name.lower().replace(" ", ".") + "@example.com"
        with db.unit_of_work() as session:
            staff = add_staff(session, name=name, email=email, role=role, level=level)
            staff.password_hash = _password_hash()
            return Member(staff.id, staff.name, staff.email, PASSWORD)

    return make


@pytest.fixture
def session_cookie(db: Database, live: LiveServer) -> Callable[[Member], dict[str, str]]:
    """A signed-in session for `member` without the login form (fast; the form has its tests)."""

    def cookie(member: Member) -> dict[str, str]:
        with db.unit_of_work() as session:
            _row, plain = start_session(session, get_staff(session, member.id))
        return {"franchise_session": plain}

    return cookie


@pytest.fixture
def sign_in_as(
    live: LiveServer, session_cookie: Callable[[Member], dict[str, str]]
) -> Callable[[Page, Member], None]:
    def sign_in(page: Page, member: Member) -> None:
        value = session_cookie(member)["franchise_session"]
        page.context.add_cookies(
            [{"name": "franchise_session", "value": value, "url": live.url, "httpOnly": True}]
        )

    return sign_in


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


@dataclass
class QueueData:
    tech: Member
    senior: Member
    owner: Member
    ticket_ids: dict[str, int]


@pytest.fixture
def queue_data(db: Database, make_staff: Callable[..., Member]) -> QueueData:
    """A small, realistic queue: three staff, three clients, tickets in several states."""
    tech = make_staff("Tess Tech")
    senior = make_staff("Sam Senior", level="L2")
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    rows = [
        ("vpn", "VPN won't connect for Dana (certificate error)", "Acme Dental", "vpn", "high"),
        ("backup", "Nightly backup failed on FS01", "Brightside Legal", "backup", "critical"),
        ("printer", "Reception printer offline again", "Acme Dental", "printer", "low"),
        ("mfa", "New phone, MFA prompts not arriving", "Northwind Logistics", "mfa", "normal"),
        ("disk", "C: drive under 5% on RDS02", "Northwind Logistics", "disk-space", "high"),
    ]
    ids: dict[str, int] = {}
    with db.unit_of_work() as session:
        for name in ("Acme Dental", "Brightside Legal", "Northwind Logistics"):
            add_client(session, name=name, tier="standard", endpoints=25)
        tech_row = get_staff(session, tech.id)
        senior_row = get_staff(session, senior.id)
        for key, title, client, category, priority in rows:
            ticket = create_ticket(
                session,
                title=title,
                body=f"Reported by phone.\nClient: {client}.",
                client=client,
                category=category,
                priority=priority,
            )
            ids[key] = ticket.id
            if key in ("vpn", "printer"):
                lifecycle.assign(session, ticket, tech_row, by=senior_row)
            if key == "backup":
                lifecycle.assign(session, ticket, senior_row, by=senior_row)
                change_ticket(
                    session,
                    ticket,
                    actor=senior_row,
                    note="Storage target full",
                    status="escalated",
                    level="L2",
                )
    return QueueData(tech=tech, senior=senior, owner=owner, ticket_ids=ids)


@pytest.fixture
def browser_page_no_js(browser: Browser, live: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=live.url, viewport=LAPTOP, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(5000)
    yield page
    context.close()
