"""The HTTP API: auth, the error shape, runbooks, suggest, tickets and runs."""

from __future__ import annotations

from fastapi.testclient import TestClient

from franchise.runbooks.service import STARTER


def test_health_needs_no_auth(app_client: TestClient) -> None:
    response = app_client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["ok"] is True


def test_routes_refuse_missing_and_bad_tokens_in_the_error_shape(app_client: TestClient) -> None:
    missing = app_client.get("/api/v1/runbooks")
    assert missing.status_code == 401
    assert missing.json() == {
        "ok": False,
        "error": "send an API token as 'Authorization: Bearer <token>'",
        "errors": [],
        "status": 401,
        "code": "not_authenticated",
    }
    bad = app_client.get("/api/v1/tickets", headers={"Authorization": "Bearer frn_nope"})
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid or revoked API token"


def test_runbooks_list_and_show(app_client: TestClient, l1: dict[str, str]) -> None:
    listed = app_client.get("/api/v1/runbooks", headers=l1).json()
    assert len(listed) == len(list(STARTER.glob("*.yaml")))
    vpn = app_client.get("/api/v1/runbooks/vpn", headers=l1).json()
    assert vpn["key"] == "vpn-auth-failure"
    assert vpn["steps"]["dc-trouble"]["to"] == "owner"
    missing = app_client.get("/api/v1/runbooks/nope", headers=l1)
    assert missing.status_code == 404


def test_l1_may_not_save_runbooks_but_the_owner_may(
    app_client: TestClient, l1: dict[str, str], owner: dict[str, str]
) -> None:
    source = (
        (STARTER / "vpn-auth-failure.yaml")
        .read_text()
        .replace("Tunnel stable for 15", "Tunnel stable for 20")
    )
    body = {"source": source, "note": "stricter soak", "expected_revision": 1}
    refused = app_client.post("/api/v1/runbooks", json=body, headers=l1)
    assert refused.status_code == 403
    saved = app_client.post("/api/v1/runbooks", json=body, headers=owner)
    assert saved.status_code == 201
    assert saved.json() == {"key": "vpn-auth-failure", "revision": 2, "action": "revised"}
    stale = app_client.post("/api/v1/runbooks", json=body, headers=owner)
    assert stale.status_code == 409


def test_lint_errors_come_back_as_422_with_lines(
    app_client: TestClient, owner: dict[str, str]
) -> None:
    source = "key: x-y\ntitle: T\ncategory: vpn\nstatus: validated\nstart: a\nsteps:\n  a: {kind: action, text: Do it, options: {'Ok': a}}\n"
    response = app_client.post("/api/v1/runbooks", json={"source": source}, headers=owner)
    assert response.status_code == 422
    codes = {(e["code"], e["line"]) for e in response.json()["errors"]}
    assert ("missing-estimate", 7) in codes
    assert ("no-exit", 7) in codes


def test_suggest(app_client: TestClient, l1: dict[str, str]) -> None:
    response = app_client.post(
        "/api/v1/suggest", json={"text": "GlobalProtect login failed"}, headers=l1
    )
    assert response.status_code == 200
    found = response.json()
    assert found["suggestions"][0]["category"] == "vpn"
    assert (found["runbook"], found["fits"]) == ("vpn-auth-failure", True)


def test_ticket_create_list_show_and_run(app_client: TestClient, l1: dict[str, str]) -> None:
    created = app_client.post(
        "/api/v1/tickets",
        json={
            "title": "VPN certificate expired",
            "body": "FortiClient says the certificate is not valid",
        },
        headers=l1,
    )
    assert created.status_code == 201
    ticket = created.json()
    assert (ticket["source"], ticket["runbook_key"]) == ("api", "vpn-auth-failure")
    assert [t["id"] for t in app_client.get("/api/v1/tickets", headers=l1).json()] == [ticket["id"]]
    run = app_client.post(
        "/api/v1/runs", json={"runbook": "vpn", "ticket_id": ticket["id"]}, headers=l1
    ).json()
    assert run["next_step"] == "scope"
    assert run["step"]["options"]["Only this user"] == "client-error"
    answered = app_client.post(
        f"/api/v1/runs/{run['id']}/answers",
        json={"step": "scope", "answer": "Only this user"},
        headers=l1,
    ).json()
    assert answered["next_step"] == "client-error"
    # A second answer for the step already answered is a conflict, not a fork of the run.
    again = app_client.post(
        f"/api/v1/runs/{run['id']}/answers",
        json={"step": "scope", "answer": "Several or all users"},
        headers=l1,
    )
    assert again.status_code == 409
    assert "step 'scope' was already answered 'Only this user'" in again.json()["error"]
    assert "the run is at 'client-error'" in again.json()["error"]


def test_validation_errors_name_the_field(app_client: TestClient, l1: dict[str, str]) -> None:
    response = app_client.post("/api/v1/tickets", json={"title": ""}, headers=l1)
    assert response.status_code == 422
    body = response.json()
    assert body["ok"] is False
    assert body["errors"][0]["field"] == "body.title"


def test_oversized_body_is_413(app_client: TestClient, l1: dict[str, str]) -> None:
    response = app_client.post(
        "/api/v1/suggest", content=b"x" * 70_000, headers={**l1, "content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["status"] == 413


def test_openapi_document_lists_the_routes(app_client: TestClient) -> None:
    paths = app_client.get("/openapi.json").json()["paths"]
    assert {
        "/api/v1/health",
        "/api/v1/runbooks",
        "/api/v1/suggest",
        "/api/v1/tickets",
        "/api/v1/runs",
    } <= set(paths)
