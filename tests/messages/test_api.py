"""The message routes, mounted the way the app mounts them (under /api/v1)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from franchise.accounts.service import add_staff, create_token
from franchise.app import create_app
from franchise.clients.models import ClientContact
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.messages.api import router
from franchise.messages.service import starter_source
from franchise.settings import Settings
from franchise.tickets.service import create_ticket
from tests.messages.conftest import SENDER, SmtpServer, free_port


@dataclass(frozen=True)
class Setup:
    ticket: int
    tech: dict[str, str]
    owner: dict[str, str]


@pytest.fixture
def setup(db: Database) -> Setup:
    with db.unit_of_work() as session:
        tech = add_staff(
            session, name="Priya Shah", email="priya@msp.example", role="technician", level="L1"
        )
        owner = add_staff(
            session, name="Olu Owner", email="olu@msp.example", role="owner", level="owner"
        )
        client = add_client(session, name="Harbour Dental")
        session.add(
            ClientContact(
                client_id=client.id,
                name="Dana Whitfield",
                email="dana@harbour.example",
                is_primary=True,
            )
        )
        ticket = create_ticket(
            session, title="VPN down", client=client.id, runbook_key="vpn-auth-failure"
        )
        return Setup(
            ticket=ticket.id,
            tech={"Authorization": f"Bearer {create_token(session, staff=tech, name='t')[1]}"},
            owner={"Authorization": f"Bearer {create_token(session, staff=owner, name='t')[1]}"},
        )


def client_for(db: Database, settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, db=db)
    app.include_router(router, prefix="/api/v1")
    with TestClient(app) as client:
        yield client


@pytest.fixture
def api(db: Database, tmp_path: Path, smtp_server: SmtpServer) -> Iterator[TestClient]:
    yield from client_for(db, smtp_server.settings(tmp_path))


def test_preview_renders_without_sending(
    api: TestClient, setup: Setup, smtp_server: SmtpServer
) -> None:
    response = api.post(
        f"/api/v1/tickets/{setup.ticket}/messages/preview",
        json={"template": "resolved"},
        headers=setup.tech,
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["template"] == "vpn-reconnect-resolved"
    assert data["to"] == "dana@harbour.example"
    assert data["body"].rstrip().endswith("Priya Shah\nIT Support")
    assert smtp_server.collector.envelopes == []


def test_send_then_list(api: TestClient, setup: Setup, smtp_server: SmtpServer) -> None:
    url = f"/api/v1/tickets/{setup.ticket}/messages"
    sent = api.post(url, json={"template": "update"}, headers=setup.tech)
    assert sent.status_code == 201, sent.text
    assert sent.json()["status"] == "sent"
    [envelope] = smtp_server.collector.envelopes
    assert envelope.rcpt_tos == ["dana@harbour.example"]
    listed = api.get(url, headers=setup.tech).json()
    assert [m["id"] for m in listed] == [sent.json()["id"]]


def test_a_failed_send_returns_502_and_stays_recorded(
    db: Database, tmp_path: Path, setup: Setup
) -> None:
    settings = Settings(
        home=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_tls="none",
        smtp_from=SENDER,
    )
    for api in client_for(db, settings):
        url = f"/api/v1/tickets/{setup.ticket}/messages"
        response = api.post(url, json={"template": "update"}, headers=setup.tech)
        assert response.status_code == 502
        body = response.json()
        assert body["ok"] is False
        assert "was not delivered" in body["error"]
        # Nothing listens on the port: that may pass, so the e-mail waits for a retry.
        assert "it will be tried again" in body["error"]
        assert body["message"]["status"] == "retrying"
        listed = api.get(url, headers=setup.tech).json()
        assert [m["status"] for m in listed] == ["retrying"]


def test_saving_templates_with_an_unknown_field_is_a_422_with_the_line(
    api: TestClient, setup: Setup
) -> None:
    source = starter_source().replace("{{ org.name }}", "{{ org.phone }}", 1)
    line = 1 + source.splitlines().index("      {{ org.phone }}")
    refused = api.put("/api/v1/templates", json={"source": source}, headers=setup.owner)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "unknown-variable"
    assert "'org' has no field 'phone'" in refused.json()["errors"][0]["message"]
    assert refused.json()["errors"][0]["line"] == line


def test_only_managers_may_change_templates(api: TestClient, setup: Setup) -> None:
    current = api.get("/api/v1/templates", headers=setup.tech)
    assert current.status_code == 200
    assert current.json()["revision"] == 0
    source = current.json()["source"].replace("Kind regards,", "Best wishes,")
    body = {"source": source, "note": "warmer", "expected_revision": 0}
    denied = api.put("/api/v1/templates", json=body, headers=setup.tech)
    assert denied.status_code == 403
    saved = api.put("/api/v1/templates", json=body, headers=setup.owner)
    assert saved.json() == {"revision": 1, "changed": True}
    stale = api.put("/api/v1/templates", json=body, headers=setup.owner)
    assert stale.status_code == 409
    preview = api.post(
        f"/api/v1/tickets/{setup.ticket}/messages/preview",
        json={"template": "update"},
        headers=setup.tech,
    )
    assert "Best wishes," in preview.json()["body"]


def test_messages_need_a_token(api: TestClient, setup: Setup) -> None:
    assert api.get(f"/api/v1/tickets/{setup.ticket}/messages").status_code == 401
