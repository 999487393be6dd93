"""Sign-in hardening: oversized fields, the shared throttle, the password policy, sessions
that end, and the second factor (codes computed with pyotp, as an authenticator app does)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.accounts.models import LoginThrottleEntry, SignInEvent
from franchise.accounts.password_policy import check_password, common_passwords
from franchise.accounts.service import add_staff, get_staff, set_password
from franchise.accounts.sessions import find_session, start_session
from franchise.app import create_app
from franchise.db import Database, utcnow
from franchise.errors import InvalidInput
from franchise.orgsettings.service import set_setting
from franchise.settings import Settings
from franchise.web.throttle import Limit, LoginThrottle, throttle_key
from tests.support import CliInvoker

PASSWORD = "correct horse battery staple"


@pytest.fixture
def client(db: Database, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(home=tmp_path), db=db)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as test_client:
        yield test_client


def _add(db: Database, email: str, role: str = "technician") -> int:
    with db.unit_of_work() as session:
        level = "owner" if role == "owner" else "L1"
        return add_staff(
            session,
            name=email.split("@")[0],
            email=email,
            role=role,
            level=level,
            password=PASSWORD,
        ).id


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _login(client: TestClient, email: str, password: str = PASSWORD) -> httpx.Response:
    token = _csrf(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def _count(db: Database, model: type) -> int:
    with db.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- finding 2: oversized fields are refused before anything is kept ----------------------


def test_oversized_login_fields_are_refused_and_nothing_is_kept(
    client: TestClient, db: Database
) -> None:
    huge = "a" * 1_000_000 + "@example.com"
    assert _login(client, huge, "x").status_code == 422
    assert _login(client, "a" * 309 + "@example.com", "x" * 1025).status_code == 422
    assert _count(db, LoginThrottleEntry) == 0
    assert _count(db, SignInEvent) == 0
    # At the limits exactly (320 and 1,024 characters) it is an ordinary wrong sign-in.
    assert _login(client, "a" * 308 + "@example.com", "x" * 1024).status_code == 400
    with db.unit_of_work() as session:
        keys = session.scalars(select(LoginThrottleEntry.key_hash)).all()
    assert sorted(keys) == sorted(
        [throttle_key("ip", "testclient"), throttle_key("account", "a" * 308 + "@example.com")]
    )
    assert all(re.fullmatch(r"[0-9a-f]{64}", k) for k in keys)


# --- finding 3: per IP and per account, growing delays, counts in the database -------------


def test_delays_double_after_the_free_failures_up_to_the_cap() -> None:
    account = Limit(free=5, cap_seconds=60)
    assert [account.delay_after(n) for n in range(1, 13)] == [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60]
    assert account.delay_after(10_000) == 60


def test_nobody_can_lock_out_someone_else_for_more_than_a_minute(session: Session) -> None:
    throttle = LoginThrottle()
    now = utcnow()
    # 200 wrong guesses at one address from 200 machines.
    for n in range(200):
        throttle.failed(session, ip=f"198.51.100.{n % 250}", account="owner@example.com", now=now)
    # The real owner, from the office, waits at most the account's cap.
    assert (
        throttle.wait_seconds(session, ip="203.0.113.7", account="owner@example.com", now=now) == 60
    )
    later = now + timedelta(seconds=60)
    assert (
        throttle.wait_seconds(session, ip="203.0.113.7", account="owner@example.com", now=later)
        == 0
    )


def test_one_address_trying_many_accounts_is_slowed(session: Session) -> None:
    throttle = LoginThrottle()
    now = utcnow()
    for n in range(30):
        throttle.failed(session, ip="192.0.2.9", account=f"user{n}@example.com", now=now)
    # 30 failures, 20 free: the 10th over waits 2**9 = 512 s, for any account from there.
    assert throttle.wait_seconds(session, ip="192.0.2.9", account="new@example.com", now=now) == 512
    assert throttle.wait_seconds(session, ip="192.0.2.10", account="new@example.com", now=now) == 0


def test_counts_are_shared_by_every_process_and_survive_a_restart(session: Session) -> None:
    now = utcnow()
    first, second = LoginThrottle(), LoginThrottle()  # two server processes, or before/after
    for _ in range(3):
        first.failed(session, ip="192.0.2.1", account="tess@example.com", now=now)
    for _ in range(3):
        second.failed(session, ip="192.0.2.2", account="tess@example.com", now=now)
    # Six failures for the account, five free: one second to wait, seen by both.
    assert first.wait_seconds(session, ip="192.0.2.3", account="tess@example.com", now=now) == 1
    assert (
        LoginThrottle().wait_seconds(session, ip="192.0.2.3", account="tess@example.com", now=now)
        == 1
    )


def test_old_counts_are_swept(session: Session) -> None:
    throttle = LoginThrottle()
    start = utcnow()
    throttle.failed(session, ip="192.0.2.1", account="old@example.com", now=start)
    throttle.failed(
        session, ip="192.0.2.2", account="new@example.com", now=start + timedelta(hours=2)
    )
    keys = set(session.scalars(select(LoginThrottleEntry.key_hash)))
    assert keys == {throttle_key("ip", "192.0.2.2"), throttle_key("account", "new@example.com")}


def test_a_throttled_sign_in_says_how_long_and_is_logged(client: TestClient, db: Database) -> None:
    _add(db, "tess@example.com")
    client.app.state.login_throttle = LoginThrottle(
        account=Limit(free=1, cap_seconds=60, first_seconds=30)
    )  # type: ignore[attr-defined]
    assert _login(client, "tess@example.com", "wrong password!").status_code == 400
    assert _login(client, "tess@example.com", "wrong password!").status_code == 400
    refused = _login(client, "tess@example.com")
    assert refused.status_code == 429
    assert 29 <= int(refused.headers["retry-after"]) <= 30
    with db.unit_of_work() as session:
        outcomes = [
            e.outcome for e in session.scalars(select(SignInEvent).order_by(SignInEvent.id))
        ]
    assert outcomes == ["failure", "failure", "throttled"]


# --- finding 10: one password policy everywhere ------------------------------------------


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("a", "at least 12"),
        ("elevenchars", "at least 12"),
        ("123qweasdzxc", "commonly used"),
        ("123QWEasdZXC", "commonly used"),
        ("x" * 1025, "at most 1024"),
    ],
)
def test_weak_passwords_are_refused(password: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        check_password(password)


def test_the_shipped_list_holds_the_top_hundred_thousand() -> None:
    words = common_passwords()
    # 100,000 lines shipped; compared without case, 96,518 of them are distinct.
    assert len(words) == 96_518
    assert {"123456", "password", "qwerty"} <= words


def test_twelve_uncommon_characters_pass(session: Session) -> None:
    check_password("twelve chars")
    staff = add_staff(
        session, name="A", email="a@example.com", role="admin", level="L2", password="x" * 12 + "!"
    )
    with pytest.raises(InvalidInput, match="at least 12"):
        set_password(session, staff, "short")


def test_cli_user_add_refuses_a_one_letter_admin_password(cli: CliInvoker) -> None:
    cli("init")
    result = cli(
        "user",
        "add",
        "Ann Admin",
        "--email",
        "ann@example.com",
        "--role",
        "admin",
        "--password",
        "a",
    )
    assert result.exit_code == 2
    assert "at least 12 characters" in result.stderr
    assert "ann@example.com" not in cli("user", "list", "--json").stdout


def test_a_password_reset_ends_every_session(session: Session) -> None:
    staff = add_staff(session, name="B", email="b@example.com", role="technician", level="L1")
    _row, plain = start_session(session, staff)
    set_password(session, staff, "a brand new passphrase")
    assert find_session(session, plain) is None


# --- finding 9: sign out everywhere -------------------------------------------------------


def test_sign_out_everywhere_from_the_account_page(client: TestClient, db: Database) -> None:
    staff_id = _add(db, "tess@example.com")
    with db.unit_of_work() as session:
        _row, other_browser = start_session(session, get_staff(session, staff_id))
    assert _login(client, "tess@example.com").status_code == 303
    token = _csrf(client.get("/account").text)
    done = client.post("/account/sessions/revoke-all", data={"csrf_token": token})
    assert done.status_code == 200
    assert "2 sessions ended" in done.text
    assert client.get("/queue").status_code == 303
    with db.unit_of_work() as session:
        assert find_session(session, other_browser) is None


def test_cli_lists_and_revokes_sessions(cli: CliInvoker, db: Database) -> None:
    cli("init")
    staff_id = _add(db, "lee@example.com")
    with db.unit_of_work() as session:
        start_session(session, get_staff(session, staff_id), ip="192.0.2.4")
    listed = cli("user", "sessions", "lee@example.com", "--json")
    assert listed.exit_code == 0
    assert '"ip": "192.0.2.4"' in listed.stdout
    revoked = cli("user", "revoke-sessions", "lee@example.com")
    assert "Ended 1 session of lee@example.com" in revoked.stdout
    assert cli("user", "sessions", "lee@example.com", "--json").stdout.strip() == "[]"


# --- second factor -------------------------------------------------------------------------


def _enrol(client: TestClient) -> tuple[str, list[str]]:
    page = client.get("/account")
    client.post("/account/totp/start", data={"csrf_token": _csrf(page.text)})
    page = client.get("/account")
    found = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text)
    assert found is not None
    assert 'src="data:image/svg+xml' in page.text  # the QR code
    secret = found.group(1)
    confirmed = client.post(
        "/account/totp/confirm",
        data={"csrf_token": _csrf(page.text), "code": pyotp.TOTP(secret).now()},
    )
    assert confirmed.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", confirmed.text)
    assert len(codes) == 10
    return secret, codes


def test_owners_must_enrol_at_next_sign_in_and_then_give_a_code(
    client: TestClient, db: Database
) -> None:
    _add(db, "olivia@example.com", role="owner")
    signed = _login(client, "olivia@example.com")
    assert signed.headers["location"] == "/account?enrol=1"
    # Until a second factor is set up, every other page sends them back to enrolment.
    assert client.get("/queue").headers["location"] == "/account?enrol=1"
    secret, codes = _enrol(client)
    assert client.get("/queue").status_code == 200

    client.cookies.clear()
    step = _login(client, "olivia@example.com")
    assert step.headers["location"].startswith("/login/mfa")
    assert client.get("/queue").status_code == 303  # the password alone opens nothing
    token = _csrf(client.get("/login/mfa").text)
    assert (
        client.post("/login/mfa", data={"csrf_token": token, "code": "000000"}).status_code == 400
    )
    totp = pyotp.TOTP(secret)
    # The enrolment used the current step; the next one (within allowed drift) is fresh.
    fresh = totp.at(utcnow().timestamp() + 30)
    ok = client.post("/login/mfa", data={"csrf_token": token, "code": fresh, "next": "/queue"})
    assert ok.headers["location"] == "/queue"
    assert client.get("/queue").status_code == 200

    # The same code again, in a new sign-in, is refused: it was seen once.
    client.cookies.clear()
    _login(client, "olivia@example.com")
    token = _csrf(client.get("/login/mfa").text)
    assert client.post("/login/mfa", data={"csrf_token": token, "code": fresh}).status_code == 400
    # A recovery code works once.
    assert (
        client.post("/login/mfa", data={"csrf_token": token, "code": codes[0]}).status_code == 303
    )
    client.cookies.clear()
    _login(client, "olivia@example.com")
    token = _csrf(client.get("/login/mfa").text)
    assert (
        client.post("/login/mfa", data={"csrf_token": token, "code": codes[0]}).status_code == 400
    )

    with db.unit_of_work() as session:
        log = [
            (e.method, e.outcome)
            for e in session.scalars(select(SignInEvent).order_by(SignInEvent.id))
        ]
    assert log == [
        ("password", "success"),
        ("totp", "failure"),
        ("totp", "success"),
        ("totp", "failure"),
        ("recovery", "success"),
        ("recovery", "failure"),
    ]


def test_technicians_sign_in_with_a_password_alone_unless_everyone_must_use_mfa(
    client: TestClient, db: Database
) -> None:
    _add(db, "tess@example.com")
    assert _login(client, "tess@example.com").headers["location"] == "/"
    with db.unit_of_work() as session:
        set_setting(session, "require_mfa", "everyone")
    client.cookies.clear()
    assert _login(client, "tess@example.com").headers["location"] == "/account?enrol=1"


def test_the_sign_in_log_is_on_the_staff_page(client: TestClient, db: Database) -> None:
    _add(db, "olivia@example.com", role="owner")
    with db.unit_of_work() as session:
        set_setting(session, "require_mfa", "off")
    _login(client, "nobody@example.com", "wrong password!")
    _login(client, "olivia@example.com")
    page = client.get("/staff", headers={"user-agent": "Probe/1.0"})
    assert page.status_code == 200
    section = page.text.split('id="sign-ins"', 1)[1]
    assert "nobody@example.com" in section
    assert "failure (unknown or inactive account)" in section
    assert "olivia@example.com" in section
