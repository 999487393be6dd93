"""/api/v1/clients: technicians read; the owner, admins and service managers write."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from franchise.accounts.service import add_staff, create_token
from franchise.app import create_app
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.settings import Settings


@pytest.fixture
def api(db: Database, tmp_path: Path) -> Iterator[TestClient]:
    with db.unit_of_work() as session:
        initialise(session)
    with TestClient(create_app(Settings(home=tmp_path), db=db)) as client:
        yield client


@pytest.fixture
def as_role(db: Database) -> dict[str, dict[str, str]]:
    headers = {}
    with db.unit_of_work() as session:
        for role, level in (("technician", "L1"), ("service_manager", "L2"), ("owner", "owner")):
            staff = add_staff(
                session, name=role, email=f"{role}@example.com", role=role, level=level
            )
            headers[role] = {
                "Authorization": f"Bearer {create_token(session, staff=staff, name='t')[1]}"
            }
    return headers


def test_a_service_manager_keeps_clients_and_contacts(
    api: TestClient, as_role: dict[str, dict[str, str]]
) -> None:
    manager = as_role["service_manager"]
    made = api.post(
        "/api/v1/clients", json={"name": "Harbour Dental", "tier": "premium"}, headers=manager
    )
    assert made.status_code == 201, made.text
    client_id = made.json()["id"]
    contact = api.post(
        f"/api/v1/clients/{client_id}/contacts",
        json={
            "name": "Dana",
            "email": "dana@harbour.example",
            "phone": "0161 555 0101",
            "vip": True,
        },
        headers=manager,
    )
    assert contact.status_code == 201, contact.text
    assert contact.json() | {"id": 0} == {
        "id": 0,
        "client_id": client_id,
        "name": "Dana",
        "email": "dana@harbour.example",
        "phone": "0161 555 0101",
        "mobile": None,
        "role": None,
        "primary": True,
        "vip": True,
        "approves_spend": False,
    }
    edited = api.patch(
        f"/api/v1/clients/{client_id}/contacts/dana@harbour.example",
        json={"approves_spend": True, "role": "Practice manager"},
        headers=manager,
    )
    assert edited.json()["approves_spend"] is True
    assert edited.json()["vip"] is True  # left out, so kept
    renamed = api.patch(
        f"/api/v1/clients/{client_id}", json={"name": "Harbour Dental Group"}, headers=manager
    )
    assert renamed.json()["name"] == "Harbour Dental Group"
    shown = api.get(f"/api/v1/clients/{client_id}", headers=as_role["technician"]).json()
    assert [c["name"] for c in shown["contacts"]] == ["Dana"]
    assert shown["facts"] == []


def test_a_technician_reads_but_may_not_change_clients(
    api: TestClient, as_role: dict[str, dict[str, str]]
) -> None:
    tech = as_role["technician"]
    client_id = api.post("/api/v1/clients", json={"name": "Acme"}, headers=as_role["owner"]).json()[
        "id"
    ]
    assert [c["name"] for c in api.get("/api/v1/clients", headers=tech).json()] == ["Acme"]
    refused = api.post("/api/v1/clients", json={"name": "Other"}, headers=tech)
    assert refused.status_code == 403
    assert "service manager" in refused.json()["error"]
    assert (
        api.patch(
            f"/api/v1/clients/{client_id}", json={"tier": "premium"}, headers=tech
        ).status_code
        == 403
    )
    assert (
        api.post(
            f"/api/v1/clients/{client_id}/contacts", json={"name": "X"}, headers=tech
        ).status_code
        == 403
    )
    assert api.delete(f"/api/v1/clients/{client_id}", headers=tech).status_code == 403
    # Facts are what the team learns: any technician types one.
    fact = api.put(
        f"/api/v1/clients/{client_id}/facts/vpn", json={"value": "FortiClient"}, headers=tech
    )
    assert fact.status_code == 200
    assert fact.json()["origin"] == "typed by technician"


def test_archiving_hides_a_client_from_the_list_unless_asked(
    api: TestClient, as_role: dict[str, dict[str, str]]
) -> None:
    owner = as_role["owner"]
    client_id = api.post("/api/v1/clients", json={"name": "Old Co"}, headers=owner).json()["id"]
    archived = api.delete(f"/api/v1/clients/{client_id}", headers=owner)
    assert archived.json()["archived"] is True
    assert api.get("/api/v1/clients", headers=owner).json() == []
    assert [c["name"] for c in api.get("/api/v1/clients?archived=true", headers=owner).json()] == [
        "Old Co"
    ]
    back = api.patch(f"/api/v1/clients/{client_id}", json={"archived": False}, headers=owner)
    assert back.json()["archived"] is False


def test_bad_input_is_a_422_naming_the_field(
    api: TestClient, as_role: dict[str, dict[str, str]]
) -> None:
    owner = as_role["owner"]
    client_id = api.post("/api/v1/clients", json={"name": "Acme"}, headers=owner).json()["id"]
    bad = api.post(
        f"/api/v1/clients/{client_id}/contacts",
        json={"name": "Dana", "email": "not-an-address"},
        headers=owner,
    )
    assert bad.status_code == 422
    assert "contact e-mail 'not-an-address'" in bad.json()["error"]
    tier = api.post("/api/v1/clients", json={"name": "B", "tier": "gold"}, headers=owner)
    assert tier.status_code == 422 and "unknown tier 'gold'" in tier.json()["error"]
    assert api.get("/api/v1/clients/999999", headers=owner).status_code == 404


def test_tickets_take_a_requester_on_create_and_update(
    api: TestClient, as_role: dict[str, dict[str, str]]
) -> None:
    owner = as_role["owner"]
    client_id = api.post("/api/v1/clients", json={"name": "Harbour"}, headers=owner).json()["id"]
    for name in ("Dana", "Sam"):
        api.post(
            f"/api/v1/clients/{client_id}/contacts",
            json={"name": name, "email": f"{name.lower()}@h.example"},
            headers=owner,
        )
    made = api.post(
        "/api/v1/tickets",
        json={"title": "VPN down", "client": "Harbour", "requester": "dana@h.example"},
        headers=as_role["technician"],
    )
    assert made.status_code == 201, made.text
    assert made.json()["requester"]["name"] == "Dana"
    ticket_id = made.json()["id"]
    # An L1 technician changes the requester of a ticket assigned to them.
    changed = api.patch(
        f"/api/v1/tickets/{ticket_id}",
        json={"assignee": "technician@example.com", "requester": "Sam"},
        headers=as_role["technician"],
    )
    assert changed.json()["requester"]["name"] == "Sam"
    shown = api.get(f"/api/v1/tickets/{ticket_id}", headers=owner).json()
    assert [
        (e["field"], e["old_value"], e["new_value"])
        for e in shown["history"]
        if e["field"] == "requester"
    ] == [("requester", "Dana", "Sam")]
    cleared = api.patch(f"/api/v1/tickets/{ticket_id}", json={"requester": "nobody"}, headers=owner)
    assert cleared.json()["requester"] is None
    unknown = api.patch(f"/api/v1/tickets/{ticket_id}", json={"requester": "Zed"}, headers=owner)
    assert unknown.status_code == 404 and "no contact 'Zed'" in unknown.json()["error"]
