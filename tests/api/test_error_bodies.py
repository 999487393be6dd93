"""One error body everywhere, with a `code` clients can key on."""

from __future__ import annotations

from fastapi.testclient import TestClient

from franchise.approvals.service import STARTER_BOUNDARIES
from franchise.db import Database
from franchise.errors import Conflict, FranchiseError, Refused, error_body
from franchise.tickets.service import change_ticket, create_ticket

KEYS = {"ok", "error", "errors", "status", "code"}


def test_conflict_and_refused_share_409_and_differ_in_code(
    app_client: TestClient, db: Database, l1: dict[str, str], owner: dict[str, str]
) -> None:
    stale = app_client.put(
        "/api/v1/boundaries",
        json={"source": STARTER_BOUNDARIES.read_text(encoding="utf-8"), "expected_revision": 7},
        headers=owner,
    )
    assert stale.status_code == 409
    assert set(stale.json()) == KEYS
    assert (stale.json()["code"], stale.json()["status"]) == ("conflict", 409)

    with db.unit_of_work() as session:
        ticket = create_ticket(session, title="Printer jam", category="printer")
        change_ticket(session, ticket, actor=None, status="resolved")
        ticket_id = ticket.id
    closed = app_client.post(
        f"/api/v1/tickets/{ticket_id}/approvals",
        json={"action": "Buy toner", "cost": 20},
        headers=l1,
    )
    assert closed.status_code == 409
    assert closed.json() == {
        "ok": False,
        "error": f"ticket #{ticket_id} is resolved; reopen it before asking",
        "errors": [],
        "status": 409,
        "code": "refused",
    }


def test_framework_errors_use_the_same_shape_and_a_code(
    app_client: TestClient, l1: dict[str, str]
) -> None:
    unknown = app_client.get("/api/v1/no-such-route", headers=l1)
    assert unknown.json() == {
        "ok": False,
        "error": "Not Found",
        "errors": [],
        "status": 404,
        "code": "not_found",
    }
    invalid = app_client.post(
        "/api/v1/tickets/1/approvals", json={"action": "x", "cost": -1}, headers=l1
    )
    assert invalid.status_code == 422
    assert set(invalid.json()) == KEYS
    assert invalid.json()["code"] == "invalid_input"
    assert invalid.json()["errors"][0]["field"] == "body.cost"
    not_allowed = app_client.delete("/api/v1/health")
    assert (not_allowed.status_code, not_allowed.json()["code"]) == (405, "method_not_allowed")


def test_every_franchise_error_sends_its_own_code() -> None:
    assert Conflict("x").to_dict()["code"] == "conflict"
    assert Refused("x").to_dict()["code"] == "refused"
    assert FranchiseError("x").to_dict() == error_body(400, "x", code="error")
    assert error_body(413, "too big")["code"] == "too_large"
    assert error_body(418, "teapot")["code"] == "i'm_a_teapot"
    assert error_body(599, "?")["code"] == "error"
