"""PUT /api/v1/tickets/{id}/runbook: attach, replace and detach, with a reason."""

from __future__ import annotations

from fastapi.testclient import TestClient

TEAMS = {"title": "Teams crashes every time I share my screen in a meeting"}


def test_an_offered_runbook_is_attached_replaced_and_detached(
    app_client: TestClient, l1: dict[str, str]
) -> None:
    created = app_client.post("/api/v1/tickets", json=TEAMS, headers=l1).json()
    assert (created["runbook_key"], created["suggested_runbook_key"]) == (None, "endpoint-offline")
    assert created["suggestion_confidence"] < 0.75
    url = f"/api/v1/tickets/{created['id']}/runbook"
    attached = app_client.put(
        url, json={"runbook": "endpoint-offline", "reason": "The laptop drops off"}, headers=l1
    )
    assert attached.status_code == 200
    body = attached.json()
    assert (body["runbook_key"], body["category"], body["runbook_source"]) == (
        "endpoint-offline",
        "endpoint-offline",
        "technician",
    )
    escalation = app_client.get(f"/api/v1/tickets/{created['id']}/escalation", headers=l1)
    assert escalation.json()["allowed"] is False
    detached = app_client.put(url, json={"runbook": None, "reason": "Teams bug"}, headers=l1)
    assert (detached.json()["runbook_key"], detached.json()["runbook_source"]) == (
        None,
        "detached",
    )
    escalation = app_client.get(f"/api/v1/tickets/{created['id']}/escalation", headers=l1)
    assert (escalation.json()["allowed"], escalation.json()["rule"]) == (True, "default")
    shown = app_client.get(f"/api/v1/tickets/{created['id']}", headers=l1).json()
    notes = [e["note"] for e in shown["history"] if e["field"] == "runbook_key"]
    assert notes == ["The laptop drops off", "Teams bug"]


def test_a_reason_and_an_explicit_choice_are_required(
    app_client: TestClient, l1: dict[str, str]
) -> None:
    ticket = app_client.post("/api/v1/tickets", json=TEAMS, headers=l1).json()
    url = f"/api/v1/tickets/{ticket['id']}/runbook"
    no_reason = app_client.put(url, json={"runbook": "endpoint-offline"}, headers=l1)
    assert no_reason.status_code == 422
    blank = app_client.put(url, json={"runbook": "endpoint-offline", "reason": " "}, headers=l1)
    assert blank.status_code == 422
    assert "say why" in blank.json()["error"]
    # Detaching must be said (null), not implied by a missing field.
    implied = app_client.put(url, json={"reason": "x"}, headers=l1)
    assert implied.status_code == 422
    unknown = app_client.put(url, json={"runbook": "no-such", "reason": "x"}, headers=l1)
    assert unknown.status_code == 404
    nothing = app_client.put(url, json={"runbook": None, "reason": "x"}, headers=l1)
    assert nothing.status_code == 422
    missing = app_client.put(
        "/api/v1/tickets/999999/runbook", json={"runbook": None, "reason": "x"}, headers=l1
    )
    assert missing.status_code == 404


def test_put_category_records_the_reason_and_refuses_without_one(
    app_client: TestClient, l1: dict[str, str]
) -> None:
    ticket = app_client.post(
        "/api/v1/tickets", json={"title": "Printer on floor 2 jams"}, headers=l1
    ).json()
    url = f"/api/v1/tickets/{ticket['id']}/category"
    missing = app_client.put(url, json={"category": "mfa", "reason": ""}, headers=l1)
    assert missing.status_code == 422
    answer = app_client.put(
        url, json={"category": "mfa", "reason": "The jam was the MFA card reader"}, headers=l1
    )
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert (data["category"], data["category_by_hand"]) == ("mfa", True)
    history = app_client.get(f"/api/v1/tickets/{ticket['id']}", headers=l1).json()["history"]
    assert any(
        e["field"] == "category"
        and e["new_value"] == "mfa"
        and e["note"] == "The jam was the MFA card reader"
        for e in history
    )
    bad = app_client.put(url, json={"category": "hr", "reason": "x"}, headers=l1)
    assert bad.status_code == 422
    assert "unknown category 'hr'" in bad.json()["error"]
