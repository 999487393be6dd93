"""The escalation routes, mounted on the app under /api/v1 for the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from franchise.accounts.service import add_staff, create_token
from franchise.app import create_app
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.escalation import api as escalation_api
from franchise.escalation.service import load_starter
from franchise.settings import Settings
from franchise.tickets.service import create_ticket


@pytest.fixture
def client(db: Database, tmp_path: Path) -> Iterator[TestClient]:
    with db.unit_of_work() as session:
        initialise(session)
        load_starter(session)
    app = create_app(Settings(home=tmp_path), db=db)
    app.include_router(escalation_api.router, prefix="/api/v1")
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def headers(db: Database) -> dict[str, dict[str, str]]:
    out = {}
    with db.unit_of_work() as session:
        for role, level in (("technician", "L1"), ("owner", "owner")):
            staff = add_staff(
                session, name=role, email=f"{role}@example.com", role=role, level=level
            )
            out[role] = {
                "Authorization": f"Bearer {create_token(session, staff=staff, name='t')[1]}"
            }
    return out


@pytest.fixture
def ticket_id(db: Database) -> int:
    with db.unit_of_work() as session:
        return create_ticket(session, title="VPN won't connect", category="vpn").id


def test_map_read_by_staff_saved_only_by_owner(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    got = client.get("/api/v1/escalation/map", headers=headers["technician"])
    assert got.status_code == 200
    data = got.json()
    assert data["revision"] == 1
    source = data["source"].replace("older_than_hours: 4", "older_than_hours: 6")
    body = {"source": source, "note": "slower", "expected_revision": 1}
    assert (
        client.put("/api/v1/escalation/map", json=body, headers=headers["technician"]).status_code
        == 403
    )
    saved = client.put("/api/v1/escalation/map", json=body, headers=headers["owner"])
    assert saved.json() == {"revision": 2, "changed": True}
    assert (
        client.put("/api/v1/escalation/map", json=body, headers=headers["owner"]).status_code == 409
    )
    broken = {"source": source.replace("to: owner", "to: boss", 1)}
    bad = client.put("/api/v1/escalation/map", json=broken, headers=headers["owner"])
    assert bad.status_code == 422
    line = source.splitlines().index("    to: owner") + 1
    assert [(e["code"], e["line"]) for e in bad.json()["errors"]] == [("unknown-level", line)]


def test_ticket_escalation_check_and_escalate(
    client: TestClient, headers: dict[str, dict[str, str]], ticket_id: int
) -> None:
    check = client.get(f"/api/v1/tickets/{ticket_id}/escalation", headers=headers["technician"])
    assert check.json()["allowed"] is False
    assert check.json()["pending_step"] == "scope"
    refused = client.post(
        f"/api/v1/tickets/{ticket_id}/escalate", json={"to": "L2"}, headers=headers["technician"]
    )
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["pending_step"] == "scope"
    done = client.post(
        f"/api/v1/tickets/{ticket_id}/escalate",
        json={"to": "L2", "override_reason": "known outage", "note": "ISP ticket 4471 is open."},
        headers=headers["owner"],
    )
    assert done.status_code == 200
    assert done.json()["ticket"]["level"] == "L2"
    history = client.get(f"/api/v1/tickets/{ticket_id}", headers=headers["owner"]).json()
    notes = [e["note"] for e in history["history"] if e["kind"] == "handover"]
    assert "Handover to L2: ISP ticket 4471 is open." in notes
    assert done.json()["ticket"]["custom_fields"]["escalation_allowed"] == "no"
