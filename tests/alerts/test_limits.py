"""What a webhook may send: the token before the body, depth, alerts per body, alerts per
minute per integration (issue 16, findings 1 and 8)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from franchise.alerts import api as alerts_api
from franchise.alerts.limits import RateLimited, RateLimiter
from franchise.alerts.models import InboxItem, Integration
from franchise.app import create_app
from franchise.db import Database
from franchise.integrations import MAX_DEPTH, load_json, too_deep
from franchise.integrations.normalized import MalformedPayload
from franchise.settings import Settings

MakeIntegration = Callable[..., tuple[Integration, str]]


def alertmanager_body(count: int) -> dict[str, object]:
    return {
        "status": "firing",
        "groupKey": '{}:{alertname="Down"}',
        "alerts": [
            {"status": "firing", "labels": {"alertname": "Down", "n": str(i)}} for i in range(count)
        ],
    }


def stored(db: Database) -> list[InboxItem]:
    with db.unit_of_work() as session:
        return list(session.scalars(select(InboxItem).order_by(InboxItem.id)))


@pytest.fixture
def client(db: Database, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(
        Settings(home=tmp_path, max_body_bytes=1_000_000, alerts_rate_per_minute=60), db=db
    )
    app.include_router(alerts_api.router, prefix="/api/v1")
    with TestClient(app) as test_client:
        yield test_client


def test_depth_is_measured_without_decoding() -> None:
    assert not too_deep(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    assert too_deep(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    # Brackets inside strings, escaped quotes and escaped backslashes do not count.
    inside = b'{"a": "' + b"[" * 100 + b'\\" [[[", "b": "\\\\", "c": [[]]}'
    assert not too_deep(inside)
    assert json.loads(inside)["b"] == "\\"
    # Objects and arrays count alike: {"a": [{"b": [ ... is four levels.
    assert too_deep(b'{"a": [{"b": []}]}', limit=3)
    assert not too_deep(b'{"a": [{"b": []}]}', limit=4)
    # Unbalanced text is not called deep: the decoder says what is wrong with it.
    with pytest.raises(MalformedPayload, match="not valid JSON"):
        load_json(b'{"title": ')
    with pytest.raises(MalformedPayload, match=f"deeper than {MAX_DEPTH} levels"):
        load_json(b"[" * 100_000)


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def test_depth_agrees_with_the_decoded_document() -> None:
    """Random documents whose strings are empty, adjacent, or full of brackets, quotes and
    backslashes (as Alertmanager's groupKey `{}:{alertname="X"}` is): the skeleton's depth
    is the decoded document's."""
    rnd = random.Random(5)
    texts = ["", "", "a", "[", "]]", "{}", '{}:{alertname="X"}', '"', "\\", '\\"[', "[]{}", "x]"]

    def document(level: int) -> object:
        if level > 5 or rnd.random() < 0.3:
            return rnd.choice(texts)
        if rnd.random() < 0.5:
            return [document(level + 1) for _ in range(rnd.randint(0, 4))]
        return {rnd.choice(texts): document(level + 1) for _ in range(rnd.randint(0, 4))}

    for _ in range(500):
        value = document(0)
        body = json.dumps(value, separators=(",", ":") if rnd.random() < 0.5 else None).encode()
        depth = _depth(value)
        assert not too_deep(body, limit=depth), body
        if depth:
            assert too_deep(body, limit=depth - 1), body


def test_a_deep_body_with_a_wrong_token_is_refused_for_the_token(
    db: Database, client: TestClient, make_integration: MakeIntegration
) -> None:
    _, token = make_integration("alertmanager")
    deep = b"[" * 1000 + b"]" * 1000
    wrong = client.post("/api/v1/hooks/alertmanager/frh_wrong", content=deep)
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "not_authenticated"
    # PagerDuty's token is in the body: a deep body has no routing_key to find.
    pagerduty = client.post("/api/v1/hooks/pagerduty", content=deep)
    assert pagerduty.status_code == 401
    right = client.post(f"/api/v1/hooks/alertmanager/{token}", content=deep)
    assert right.status_code == 400
    assert right.json()["error"] == (
        "malformed alertmanager payload: body nests arrays and objects deeper than 32 levels"
    )
    assert [item.state for item in stored(db)] == ["rejected"]


def test_the_token_is_checked_before_the_body_is_parsed(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    monkeypatch.setattr(
        alerts_api,
        "receive",
        lambda kind, *args: parsed.append(kind),  # type: ignore[misc]
    )
    response = client.post("/api/v1/hooks/generic/frh_wrong", json={"title": "x"})
    assert response.status_code == 401
    assert parsed == []


def test_more_alerts_than_the_cap_get_413_naming_the_limit(
    db: Database, client: TestClient, make_integration: MakeIntegration
) -> None:
    _, token = make_integration("alertmanager")
    client.app.state.alert_rate_limiter = RateLimiter(0)  # type: ignore[attr-defined]
    over = client.post(f"/api/v1/hooks/alertmanager/{token}", json=alertmanager_body(1001))
    assert over.status_code == 413
    assert over.json()["code"] == "too_many_alerts"
    assert "1001 alerts; at most 1000 are taken per body" in over.json()["error"]
    assert stored(db) == []
    at_cap = client.post(f"/api/v1/hooks/alertmanager/{token}", json=alertmanager_body(1000))
    assert at_cap.status_code == 202
    assert at_cap.json()["alerts"] == 1000


def test_an_integration_past_its_rate_gets_429_with_retry_after(
    db: Database, client: TestClient, make_integration: MakeIntegration
) -> None:
    _, token = make_integration("alertmanager")
    _, other = make_integration("alertmanager", name="other")
    now = [100.0]
    client.app.state.alert_rate_limiter = RateLimiter(  # type: ignore[attr-defined]
        60, clock=lambda: now[0]
    )
    url = f"/api/v1/hooks/alertmanager/{token}"
    assert client.post(url, json=alertmanager_body(50)).status_code == 202
    # 10 of the minute's 60 left; 20 more need 10 more seconds at one a second.
    refused = client.post(url, json=alertmanager_body(20))
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "10"
    assert refused.json()["code"] == "rate_limited"
    assert "more than 60 alerts a minute" in refused.json()["error"]
    # Another integration has its own bucket; the refused body was not counted.
    assert (
        client.post(f"/api/v1/hooks/alertmanager/{other}", json=alertmanager_body(60)).status_code
        == 202
    )
    assert client.post(url, json=alertmanager_body(10)).status_code == 202
    now[0] += 5.0  # five more alerts' worth
    assert client.post(url, json=alertmanager_body(6)).status_code == 429
    assert client.post(url, json=alertmanager_body(5)).status_code == 202
    assert sum(item.alert_count for item in stored(db)) == 50 + 60 + 10 + 5


def test_the_bucket_holds_a_minute_and_refills_continuously() -> None:
    now = [0.0]
    limiter = RateLimiter(120, clock=lambda: now[0])
    limiter.take(1, 120)
    with pytest.raises(RateLimited) as refused:
        limiter.take(1, 1)
    assert refused.value.retry_after == 1  # two a second: half a second, rounded up
    now[0] = 3600.0  # an idle hour refills to a minute's worth, no more
    limiter.take(1, 120)
    with pytest.raises(RateLimited):
        limiter.take(1, 1)
    assert RateLimiter(0).take(1, 10**9) is None  # 0 turns the limit off
