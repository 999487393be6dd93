"""The approval routes, mounted under /api/v1 on the real app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from franchise.accounts.service import add_staff, create_token
from franchise.app import create_app
from franchise.approvals.api import router
from franchise.approvals.service import STARTER_BOUNDARIES
from franchise.db import Database
from franchise.settings import Settings
from franchise.tickets.service import create_ticket

STAFF = {
    "l1": ("tom@msp.example", "L1", "technician"),
    "l1b": ("ana@msp.example", "L1", "technician"),
    "l2": ("lee@msp.example", "L2", "technician"),
    "owner": ("boss@msp.example", "owner", "owner"),
}


@pytest.fixture
def client(db: Database, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(home=tmp_path), db=db)
    if not any(getattr(r, "path", "") == "/api/v1/approvals" for r in app.routes):
        app.include_router(router, prefix="/api/v1")
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def auth(db: Database) -> dict[str, dict[str, str]]:
    headers = {}
    with db.unit_of_work() as session:
        for key, (email, level, role) in STAFF.items():
            staff = add_staff(session, name=key, email=email, role=role, level=level)
            token = create_token(session, staff=staff, name="test")[1]
            headers[key] = {"Authorization": f"Bearer {token}"}
    return headers


@pytest.fixture
def ticket_id(db: Database) -> int:
    with db.unit_of_work() as session:
        return create_ticket(session, title="Laptop needs a new SSD").id


def test_request_is_decided_at_once_for_the_signed_in_staff(
    client: TestClient, auth: dict[str, dict[str, str]], ticket_id: int
) -> None:
    body = {"action": "Renew VPN certificate", "cost": 0, "minutes": 20, "impact": "low"}
    response = client.post(f"/api/v1/tickets/{ticket_id}/approvals", json=body, headers=auth["l1"])
    assert response.status_code == 201, response.text
    data = response.json()
    assert (data["decision"], data["decided_by"], data["requester"]) == (
        "approved",
        "boundary",
        "tom@msp.example",
    )


def test_decision_checks_roles_on_the_server(
    client: TestClient, auth: dict[str, dict[str, str]], ticket_id: int
) -> None:
    body = {"action": "Replace SSD", "cost": "250.00", "minutes": 90, "impact": "medium"}
    created = client.post(f"/api/v1/tickets/{ticket_id}/approvals", json=body, headers=auth["l1"])
    request_id = created.json()["id"]
    assert created.json()["approver_level"] == "L2"

    listed = client.get("/api/v1/approvals?status=pending", headers=auth["l1"]).json()
    assert [r["id"] for r in listed] == [request_id]

    url = f"/api/v1/approvals/{request_id}/decision"
    own = client.post(url, json={"approve": True, "reason": "mine"}, headers=auth["l1"])
    assert own.status_code == 403
    assert "never approves their own request" in own.json()["error"]
    below = client.post(url, json={"approve": True, "reason": "ok"}, headers=auth["l1b"])
    assert below.status_code == 403
    assert "waits on L2" in below.json()["error"]

    done = client.post(url, json={"approve": True, "reason": "quote signed"}, headers=auth["l2"])
    assert done.status_code == 200, done.text
    assert (done.json()["decision"], done.json()["decided_by"]) == ("approved", "lee@msp.example")
    assert done.json()["decision_note"] == "quote signed"
    again = client.post(url, json={"approve": False, "reason": "no"}, headers=auth["owner"])
    assert again.status_code == 409

    ticket = client.get(f"/api/v1/approvals/{request_id}", headers=auth["l1"]).json()
    assert ticket["ticket_id"] == ticket_id


def test_bad_request_bodies_are_422(
    client: TestClient, auth: dict[str, dict[str, str]], ticket_id: int
) -> None:
    url = f"/api/v1/tickets/{ticket_id}/approvals"
    for body in (
        {"action": "x", "cost": -1},
        {"action": "x", "cost": "1.234"},
        {"action": "x", "impact": "huge"},
        {"action": ""},
    ):
        response = client.post(url, json=body, headers=auth["l1"])
        assert response.status_code == 422, body
        assert response.json()["ok"] is False
    assert client.post(url, json={"action": "x"}).status_code == 401


def test_boundaries_read_by_anyone_changed_by_owner_only(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    shown = client.get("/api/v1/boundaries", headers=auth["l1"]).json()
    assert shown["revision"] == 0
    assert shown["boundaries"]["levels"]["L2"]["max_minutes"] == 480

    source = STARTER_BOUNDARIES.read_text().replace("max_minutes: 60", "max_minutes: 90")
    body = {"source": source, "note": "longer L1 jobs", "expected_revision": 0}
    refused = client.put("/api/v1/boundaries", json=body, headers=auth["l2"])
    assert refused.status_code == 403
    saved = client.put("/api/v1/boundaries", json=body, headers=auth["owner"])
    assert saved.status_code == 200, saved.text
    assert saved.json()["revision"] == 1
    stale = client.put(
        "/api/v1/boundaries", json=body | {"source": source + "\n"}, headers=auth["owner"]
    )
    assert stale.status_code == 409

    bad = client.put(
        "/api/v1/boundaries",
        json={"source": "levels:\n  L9: unlimited\n"},
        headers=auth["owner"],
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["line"] == 2
    assert client.get("/api/v1/boundaries", headers=auth["l1"]).json()["revision"] == 1
