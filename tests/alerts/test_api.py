"""The webhook routes: authentication, 202 at once, 400 kept, 413, PagerDuty's routing_key."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.routing import BaseRoute, Match

from franchise.alerts.models import InboxItem, Integration
from franchise.alerts.service import TokenCache, revoke_integration
from franchise.alerts.worker import Report
from franchise.app import create_app
from franchise.db import Database
from franchise.integrations import KINDS
from franchise.settings import Settings
from franchise.tickets.models import Ticket
from tests.alerts.conftest import FIXTURES

MakeIntegration = Callable[..., tuple[Integration, str]]


def body(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


def inbox(db: Database) -> list[InboxItem]:
    with db.unit_of_work() as session:
        return list(session.scalars(select(InboxItem).order_by(InboxItem.id)))


def test_it_stores_the_raw_body_and_answers_202_before_processing(
    db: Database,
    hook_client: TestClient,
    make_integration: MakeIntegration,
    drain: Callable[[], Report],
) -> None:
    _, token = make_integration("alertmanager", group_by="alert")
    raw = body("alertmanager/zulip_alert.json")
    response = hook_client.post(
        f"/api/v1/hooks/alertmanager/{token}",
        content=raw,
        headers={"Content-Type": "application/json", "User-Agent": "Alertmanager/0.25.0"},
    )
    assert response.status_code == 202
    data = response.json()
    assert data["ok"] is True and data["alerts"] == 2
    (item,) = inbox(db)
    assert (item.id, item.state, item.kind, item.alert_count) == (
        data["inbox_id"],
        "pending",
        "alertmanager",
        2,
    )
    assert item.body == raw.decode()
    assert item.headers["user-agent"] == "Alertmanager/0.25.0"
    with db.unit_of_work() as session:
        assert session.scalars(select(Ticket)).all() == []  # nothing processed yet
    drain()
    with db.unit_of_work() as session:
        titles = [t.title for t in session.scalars(select(Ticket))]
    assert titles == ["High CPU core temperature on andromeda"] * 2


def test_it_accepts_the_token_in_a_header(
    db: Database, hook_client: TestClient, make_integration: MakeIntegration
) -> None:
    _, token = make_integration("zabbix")
    response = hook_client.post(
        "/api/v1/hooks/zabbix",
        content=body("zabbix/zulip_zabbix_alert.json"),
        headers={"X-Franchise-Token": token},
    )
    assert response.status_code == 202, response.text


def test_pagerduty_routing_key_carries_the_token(
    db: Database, hook_client: TestClient, make_integration: MakeIntegration
) -> None:
    _, token = make_integration("pagerduty")
    event = json.loads(body("pagerduty/events_v2_trigger.json"))
    event["routing_key"] = token
    response = hook_client.post("/api/v1/hooks/pagerduty", json=event)
    assert response.status_code == 202
    assert response.json() | {"inbox_id": 0} == {
        "ok": True,
        "inbox_id": 0,
        "alerts": 1,
        "status": "success",
        "message": "Event processed",
        "dedup_key": "acme-fs01-disk-c",
    }


def test_it_handles_missing_wrong_revoked_and_misdirected_tokens(
    db: Database, hook_client: TestClient, make_integration: MakeIntegration
) -> None:
    integration, token = make_integration("generic")
    doc = {"title": "x"}
    missing = hook_client.post("/api/v1/hooks/generic", json=doc)
    assert missing.status_code == 401
    assert missing.json()["error"].startswith("send the integration token")
    assert hook_client.post("/api/v1/hooks/generic/frh_nope", json=doc).status_code == 401
    wrong_kind = hook_client.post(f"/api/v1/hooks/zabbix/{token}", json=doc)
    assert wrong_kind.status_code == 401
    assert "belongs to a 'generic' integration" in wrong_kind.json()["error"]
    # The same refusal as `franchise integration add --kind nagios`: a bad value, 422.
    unknown = hook_client.post(f"/api/v1/hooks/nagios/{token}", json=doc)
    assert unknown.status_code == 422
    assert unknown.json() == {
        "ok": False,
        "error": "unknown integration kind 'nagios' (use " + ", ".join(KINDS) + ")",
        "errors": [],
        "status": 422,
        "code": "invalid_input",
    }
    with db.unit_of_work() as session:
        revoke_integration(session, integration.id)
    hook_client.app.state.alert_token_cache.clear()  # type: ignore[attr-defined]
    assert hook_client.post(f"/api/v1/hooks/generic/{token}", json=doc).status_code == 401
    assert inbox(db) == []  # nothing unauthenticated is stored


def test_malformed_bodies_get_400_with_the_reason_and_are_kept(
    db: Database, hook_client: TestClient, make_integration: MakeIntegration
) -> None:
    _, token = make_integration("generic")
    bad_json = hook_client.post(f"/api/v1/hooks/generic/{token}", content=b"{oops")
    wrong_shape = hook_client.post(f"/api/v1/hooks/generic/{token}", json={"status": "firing"})
    assert (bad_json.status_code, wrong_shape.status_code) == (400, 400)
    assert bad_json.json()["error"].startswith("malformed generic payload: body is not valid JSON")
    assert wrong_shape.json()["error"] == "malformed generic payload: body.title: required"
    assert wrong_shape.json()["status"] == 400
    items = inbox(db)
    assert [(i.state, i.body) for i in items] == [
        ("rejected", "{oops"),
        ("rejected", '{"status":"firing"}'),
    ]
    assert wrong_shape.json()["errors"][0]["inbox_id"] == items[1].id


def test_oversized_bodies_get_413_on_the_hook(
    db: Database, hook_client: TestClient, make_integration: MakeIntegration
) -> None:
    _, token = make_integration("generic")
    huge = json.dumps({"title": "x", "body": "y" * 70_000}).encode()
    response = hook_client.post(f"/api/v1/hooks/generic/{token}", content=huge)
    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert inbox(db) == []


def test_token_cache_forgets_after_its_ttl(tmp_path: Path) -> None:
    cache = TokenCache(ttl=0)
    cache.put("t", Integration(id=1, kind="generic"))
    assert cache.get("t") is None
    cache = TokenCache(ttl=60)
    cache.put("t", Integration(id=1, kind="generic"))
    assert cache.get("t") is not None and cache.get("other") is None


def test_webhooks_are_served_by_the_plain_routes_first_and_only_they(
    db: Database, hook_client: TestClient, make_integration: MakeIntegration
) -> None:
    """Every format's two webhook paths are matched, before any other route, by the plain
    Starlette routes (FastAPI's per-request work was a third of a webhook's cost); other
    hooks and unknown formats still reach their own routes, and the metrics' route label
    is the one the FastAPI route had."""
    app = create_app(Settings())

    def first_match(method: str, path: str) -> BaseRoute:
        scope = {"type": "http", "method": method, "path": path, "root_path": ""}
        return next(r for r in app.router.routes if r.matches(scope)[0] == Match.FULL)

    for kind in KINDS:
        for path in (f"/api/v1/hooks/{kind}/frh_token", f"/api/v1/hooks/{kind}"):
            route = first_match("POST", path)
            assert not isinstance(route, APIRoute), path
            assert app.router.routes.index(route) < 2, path
    for path in ("/api/v1/hooks/slack/interactions", "/api/v1/hooks/nagios/frh_token"):
        assert app.router.routes.index(first_match("POST", path)) >= 2, path

    _, token = make_integration("zabbix")
    posted = hook_client.post(
        f"/api/v1/hooks/zabbix/{token}", content=body("zabbix/zulip_zabbix_alert.json")
    )
    assert posted.status_code == 202, posted.text
    latency = hook_client.app.state.latency  # type: ignore[attr-defined]
    assert 'route="/api/v1/hooks/{kind}/{token}",status="2xx"' in "\n".join(latency.render())
