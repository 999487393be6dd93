"""franchise psa connect / sync / status, and the Settings page's PSA section, against the
HaloPSA stand-in on loopback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from franchise.accounts.service import add_staff
from franchise.accounts.sessions import start_session
from franchise.app import create_app
from franchise.cli.context import CliContext
from franchise.db import Database
from franchise.errors import InvalidInput
from franchise.psa.connectors.store import check_vendor
from franchise.settings import Settings
from franchise.web.auth import SESSION_COOKIE
from tests.psa.halo_fake import CLIENT_ID, CLIENT_SECRET, FakeHalo
from tests.support import CliInvoker


@pytest.fixture
def psa_cli(db: Database, settings: Settings) -> CliInvoker:
    return CliInvoker(CliContext(_settings=settings, db=db, migrated=True))


def _connect(cli: CliInvoker, url: str, secret: str = CLIENT_SECRET) -> object:
    return cli(
        "psa", "connect", "halopsa", "--url", url, "--client-id", CLIENT_ID,
        "--field-id", "142", "--json", input=f"{secret}\n",
    )  # fmt: skip


def test_connect_asks_for_the_secret_tests_it_and_status_never_shows_it(
    psa_cli: CliInvoker, halo: FakeHalo
) -> None:
    result = _connect(psa_cli, halo.url)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert CLIENT_SECRET not in result.stdout  # type: ignore[attr-defined]
    connected = json.loads(result.stdout.split("\n", 1)[1])  # type: ignore[attr-defined]
    assert connected["test"].startswith("signed in to HaloPSA")
    status = psa_cli("psa", "status", "--json")
    data = json.loads(status.stdout)
    assert (data["vendor"], data["url"], data["cursor"], data["queued"]) == (
        "halopsa",
        halo.url,
        None,
        0,
    )
    assert data["options"] == {
        "client_id": CLIENT_ID,
        "field_id": "142",
        "webhook_user": "franchise",
    }
    assert CLIENT_SECRET not in status.stdout


def test_connectwise_and_autotask_connect_store_their_settings_and_seal_their_secrets(
    psa_cli: CliInvoker, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from franchise.psa.connectors.store import load_connection

    result = psa_cli(
        "psa", "connect", "connectwise", "--url", "https://cw.example.com/v4_6_release/apis/3.0",
        "--company", "acme", "--public-key", "pub", "--client-id", "cid", "--field-id", "7",
        "--no-test", "--json", input="cw-private\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "cw-private" not in result.stdout
    with db.unit_of_work() as session:
        config = load_connection(session, settings)
    assert config is not None and config.vendor == "connectwise"
    assert config.options == {
        "company": "acme", "public_key": "pub", "client_id": "cid", "field_id": "7"
    }  # fmt: skip
    assert config.secrets == {"private_key": "cw-private"}

    monkeypatch.setenv("FRANCHISE_AUTOTASK_SECRET", "at-secret")
    monkeypatch.setenv("FRANCHISE_AUTOTASK_WEBHOOK_SECRET", "hook-secret")
    result = psa_cli(
        "psa", "connect", "autotask", "--username", "api@msp.example",
        "--integration-code", "CODE", "--field-name", "Escalation", "--no-test",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Connected autotask at https://webservices.autotask.net/atservicesrest." in (
        result.stdout
    )
    with db.unit_of_work() as session:
        config = load_connection(session, settings)
    assert config is not None and config.vendor == "autotask"
    assert config.options == {
        "username": "api@msp.example", "integration_code": "CODE", "field_name": "Escalation"
    }  # fmt: skip
    assert config.secrets == {"secret": "at-secret", "webhook_secret": "hook-secret"}


def test_sync_once_imports_and_status_shows_the_cursor_and_last_success(
    psa_cli: CliInvoker, halo: FakeHalo
) -> None:
    assert _connect(psa_cli, halo.url).exit_code == 0  # type: ignore[attr-defined]
    result = psa_cli("psa", "sync", "--once", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["received"], report["imported"]) == (3, 3)
    data = json.loads(psa_cli("psa", "status", "--json").stdout)
    assert data["cursor"] == report["cursor"] and data["last_success_at"] is not None
    assert data["failures"] == 0 and data["last_error"] is None


def test_a_failed_sync_exits_1_and_names_the_problem(psa_cli: CliInvoker, halo: FakeHalo) -> None:
    assert _connect(psa_cli, halo.url).exit_code == 0  # type: ignore[attr-defined]
    halo.server.shutdown()  # the PSA is down
    halo.server.server_close()
    result = psa_cli("psa", "sync", "--once")
    assert result.exit_code == 1
    assert "halopsa sync failed" in result.output and "ConnectError" in result.output
    data = json.loads(psa_cli("psa", "status", "--json").stdout)
    assert data["failures"] == 1 and data["cursor"] is None


def test_wrong_secret_is_refused_at_connect(psa_cli: CliInvoker, halo: FakeHalo) -> None:
    result = _connect(psa_cli, halo.url, secret="not-it")
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert "connection test failed: HaloPSA sign-in: HTTP 401" in result.output  # type: ignore[attr-defined]


def test_an_unknown_psa_is_refused_by_name() -> None:
    with pytest.raises(
        InvalidInput, match=r"unknown PSA 'freshdesk' \(use halopsa, connectwise, autotask\)"
    ):
        check_vendor("freshdesk")


def test_sync_without_a_connection_says_how_to_connect(psa_cli: CliInvoker) -> None:
    result = psa_cli("psa", "sync", "--once")
    assert result.exit_code == 2
    assert (
        "no PSA is connected; run franchise psa connect halopsa|connectwise|autotask"
        in result.output
    )


def test_the_settings_page_tests_the_connection_for_the_owner_only(
    db: Database, settings: Settings, psa_cli: CliInvoker, halo: FakeHalo
) -> None:
    assert _connect(psa_cli, halo.url).exit_code == 0  # type: ignore[attr-defined]
    with db.unit_of_work() as session:
        owner = add_staff(
            session, name="Olivia", email="o@example.com", role="owner", level="owner"
        )
        tech = add_staff(session, name="Ted", email="t@example.com", role="technician", level="L1")
        _row, owner_cookie = start_session(session, owner)
        _row, tech_cookie = start_session(session, tech)
    app = create_app(settings, db=db)
    with TestClient(app, follow_redirects=False, cookies={SESSION_COOKIE: owner_cookie}) as client:
        page = client.get("/settings")
        assert "PSA sync" in page.text and "Test connection" in page.text
        assert CLIENT_SECRET not in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        tested = client.post("/settings/psa/test", data={"csrf_token": token.group(1)})
        assert tested.status_code == 200
        assert "signed in to HaloPSA" in tested.text
        refused = client.post("/settings/psa/test", data={})  # no CSRF token
        assert refused.status_code == 403
        halo.server.shutdown()
        halo.server.server_close()
        failed = client.post("/settings/psa/test", data={"csrf_token": token.group(1)})
        assert failed.status_code == 422 and "connection test failed" in failed.text
    with TestClient(app, follow_redirects=False, cookies={SESSION_COOKIE: tech_cookie}) as client:
        assert client.post(
            "/settings/psa/test", data={"csrf_token": token.group(1)}
        ).status_code in (
            303,
            403,
        )


def test_the_worker_runs_the_sync(psa_cli: CliInvoker, halo: FakeHalo) -> None:
    assert _connect(psa_cli, halo.url).exit_code == 0  # type: ignore[attr-defined]
    result = psa_cli("worker", "--once", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(psa_cli("psa", "status", "--json").stdout)
    assert data["last_success_at"] is not None and data["imported"] == 3
    # Within the interval a second pass does not ask Halo again.
    listed = len(halo.requests)
    assert psa_cli("worker", "--once", "--json").exit_code == 0
    assert len(halo.requests) == listed


def test_serve_s_background_sender_runs_the_sync_on_sqlite(tmp_path: Path, halo: FakeHalo) -> None:
    import time

    from franchise.flows.sender import Sender
    from franchise.migrate import upgrade
    from franchise.psa.connectors.store import read_state, save_connection

    settings = Settings(home=tmp_path)
    db = Database.from_url(f"sqlite:///{tmp_path / 'serve.sqlite3'}")
    upgrade(db)
    with db.unit_of_work() as session:
        save_connection(
            session, settings, vendor="halopsa", url=halo.url,
            options={"client_id": CLIENT_ID, "field_id": "142"},
            secrets={"client_secret": CLIENT_SECRET},
        )  # fmt: skip
    sender = Sender(db, settings, poll_seconds=0.1)
    sender.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with db.unit_of_work() as session:
                if read_state(session).last_success_at:
                    break
            time.sleep(0.1)
        with db.unit_of_work() as session:
            state = read_state(session)
    finally:
        sender.stop()
        db.dispose()
    assert state.last_success_at is not None and state.imported == 3
