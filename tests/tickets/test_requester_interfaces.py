"""The requester change through the API (PUT .../requester and PATCH) and the command line:
the same rule on who may, the same refusals, the same history line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from franchise.accounts.service import add_staff, create_token
from franchise.app import create_app
from franchise.bootstrap import initialise
from franchise.clients.contacts import ContactFields, add_contact
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.settings import Settings
from franchise.tickets.service import create_ticket
from tests.support import CliInvoker


@dataclass
class World:
    ticket_id: int
    dana: int
    sam: int
    jo: int  # a contact of another client
    headers: dict[str, dict[str, str]]


@pytest.fixture
def world(db: Database) -> World:
    headers = {}
    with db.unit_of_work() as session:
        initialise(session)
        harbour = add_client(session, name="Harbour Dental")
        dana = add_contact(session, harbour, ContactFields(name="Dana", phone="0161 555 0101"))
        sam = add_contact(session, harbour, ContactFields(name="Sam", mobile="07700 900456"))
        acme = add_client(session, name="Acme Legal")
        jo = add_contact(session, acme, ContactFields(name="Jo"))
        people = {
            "L1": ("technician", "L1"),
            "assignee": ("technician", "L1"),
            "L2": ("technician", "L2"),
            "manager": ("service_manager", "L1"),
        }
        staff = {}
        for name, (role, level) in people.items():
            member = add_staff(
                session, name=name, email=f"{name.lower()}@example.com", role=role, level=level
            )
            staff[name] = member
            token = create_token(session, staff=member, name="t")[1]
            headers[name] = {"Authorization": f"Bearer {token}"}
        ticket = create_ticket(session, title="Locked out", client=harbour.id, requester=dana.id)
        ticket.assignee_id = staff["assignee"].id
        return World(ticket.id, dana.id, sam.id, jo.id, headers)


@pytest.fixture
def api(db: Database, tmp_path: Path, world: World) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(home=tmp_path), db=db)) as client:
        yield client


def _requester_history(api: TestClient, w: World) -> list[tuple[str | None, str | None]]:
    shown = api.get(f"/api/v1/tickets/{w.ticket_id}", headers=w.headers["L2"]).json()
    return [(e["old_value"], e["new_value"]) for e in shown["history"] if e["field"] == "requester"]


def test_the_api_changes_the_requester_for_the_assignee_l2_and_a_service_manager(
    api: TestClient, world: World
) -> None:
    url = f"/api/v1/tickets/{world.ticket_id}/requester"
    for who, contact, name in (
        ("assignee", world.sam, "Sam"),
        ("L2", world.dana, "Dana"),
        ("manager", world.sam, "Sam"),
    ):
        changed = api.put(url, json={"requester": str(contact)}, headers=world.headers[who])
        assert changed.status_code == 200, (who, changed.text)
        assert changed.json()["requester"]["name"] == name
    cleared = api.put(url, json={"requester": None}, headers=world.headers["L2"])
    assert cleared.json()["requester"] is None
    assert _requester_history(api, world) == [
        ("Dana", "Sam"),
        ("Sam", "Dana"),
        ("Dana", "Sam"),
        ("Sam", None),
    ]


def test_the_api_refuses_an_l1_who_is_not_the_assignee_and_anonymous_callers(
    api: TestClient, world: World
) -> None:
    url = f"/api/v1/tickets/{world.ticket_id}/requester"
    refused = api.put(url, json={"requester": "Sam"}, headers=world.headers["L1"])
    assert refused.status_code == 403
    assert refused.json()["error"].startswith("only the ticket's assignee, L2, the owner")
    # PATCH on the ticket answers the same.
    patched = api.patch(
        f"/api/v1/tickets/{world.ticket_id}", json={"requester": "Sam"}, headers=world.headers["L1"]
    )
    assert patched.status_code == 403
    assert api.put(url, json={"requester": "Sam"}).status_code == 401
    assert _requester_history(api, world) == []


def test_the_api_refuses_another_clients_contact_and_an_unknown_one(
    api: TestClient, world: World
) -> None:
    url = f"/api/v1/tickets/{world.ticket_id}/requester"
    other = api.put(url, json={"requester": str(world.jo)}, headers=world.headers["L2"])
    assert other.status_code == 422
    assert other.json()["error"] == (
        f"contact #{world.jo} (Jo) belongs to Acme Legal, not to Harbour Dental, "
        f"the client of ticket #{world.ticket_id}"
    )
    unknown = api.put(url, json={"requester": "Zed"}, headers=world.headers["L2"])
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "client 'Harbour Dental' has no contact 'Zed'"
    missing = api.put(url, json={}, headers=world.headers["L2"])
    assert missing.status_code == 422
    assert _requester_history(api, world) == []


def test_the_cli_changes_and_clears_the_requester(cli: CliInvoker, world: World) -> None:
    changed = cli("ticket", "requester", str(world.ticket_id), "Sam", "--by", "l2@example.com")
    assert changed.exit_code == 0, changed.output
    assert changed.stdout.strip() == f"Ticket #{world.ticket_id}: requester Sam (07700 900456)."
    again = cli("ticket", "requester", str(world.ticket_id), "sam", "--json")
    assert json.loads(again.stdout)["requester"]["name"] == "Sam"
    cleared = cli("ticket", "requester", str(world.ticket_id), "none", "--note", "wrong person")
    assert cleared.stdout.strip() == f"Ticket #{world.ticket_id}: no requester."
    shown = json.loads(cli("ticket", "show", str(world.ticket_id), "--json").stdout)
    assert [
        (e["old_value"], e["new_value"], e["note"])
        for e in shown["history"]
        if e["field"] == "requester"
    ] == [("Dana", "Sam", None), ("Sam", None, "wrong person")]


def test_the_cli_refuses_with_a_red_line_and_keeps_the_requester(
    cli: CliInvoker, world: World
) -> None:
    other = cli("ticket", "requester", str(world.ticket_id), str(world.jo))
    assert other.exit_code != 0
    assert f"contact #{world.jo} (Jo) belongs to Acme Legal" in other.output
    l1 = cli("ticket", "requester", str(world.ticket_id), "Sam", "--by", "l1@example.com")
    assert l1.exit_code != 0
    assert "only the ticket's assignee, L2" in l1.output
    shown = json.loads(cli("ticket", "show", str(world.ticket_id), "--json").stdout)
    assert shown["requester"]["name"] == "Dana"
