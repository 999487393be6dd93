"""The ConnectWise PSA connector against a ConnectWise stand-in on loopback (cw_fake.py):
Basic auth of company+publicKey:privateKey with the clientId header, lastUpdated conditions,
paging, JSON Patch bodies, internal notes, 429/5xx, signed callbacks, and the round trip."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from franchise.app import create_app
from franchise.db import Database, utcnow
from franchise.outbox.service import deliver_due
from franchise.psa.connectors import connectwise
from franchise.psa.connectors.base import ConnectionConfig
from franchise.psa.connectors.store import read_state
from franchise.psa.connectors.sync import sync_once
from franchise.settings import Settings
from franchise.tickets import lifecycle
from franchise.tickets.models import Ticket
from tests.psa.cw_fake import (
    CLIENT_ID,
    COMPANY,
    PRIVATE_KEY,
    PUBLIC_KEY,
    SIGNING_KEY,
    FakeConnectWise,
    fixture,
)
from tests.psa.recording import Failure, header
from tests.psa.support import (
    answer_lockout,
    connect,
    escalate_to_l2,
    pending_push,
    staff,
    ticket_for,
)

FIELD_ID = 7


@pytest.fixture
def connected(db: Database, settings: Settings, cw: FakeConnectWise) -> FakeConnectWise:
    connect(
        db,
        settings,
        "connectwise",
        cw.url,
        options={
            "company": COMPANY,
            "public_key": PUBLIC_KEY,
            "client_id": CLIENT_ID,
            "field_id": str(FIELD_ID),
            "resolved_status": "Completed",
        },
        secrets={"private_key": PRIVATE_KEY},
    )
    return cw


def test_sync_sends_basic_auth_client_id_conditions_and_pages(
    db: Database, settings: Settings, connected: FakeConnectWise, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connectwise, "PAGE_SIZE", 2)
    now = utcnow()
    report = sync_once(db, settings, now=now)
    assert (report.ok, report.received, report.pages, report.imported) == (True, 3, 2, 3)
    calls = connected.calls("GET", "/service/tickets")
    expected = "Basic " + base64.b64encode(f"acme+pUbL1c:{PRIVATE_KEY}".encode()).decode()
    until = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    # Keyset paging: the second page asks for ids after the first page's last.
    assert [c.query["conditions"] for c in calls] == [
        f"lastUpdated <= [{until}]",
        f"lastUpdated <= [{until}] and id > 98232",
    ]
    for call in calls:
        assert header(call, "Authorization") == expected
        assert header(call, "clientId") == CLIENT_ID
        assert (call.query["pageSize"], call.query["orderBy"]) == ("2", "id asc")
        assert "page" not in call.query
    lockout = ticket_for(db, "98231")
    assert (lockout.title, lockout.status, lockout.priority) == (
        "Locked out after password change",
        "new",
        "normal",
    )
    assert ticket_for(db, "98232").priority == "high"
    assert ticket_for(db, "98233").status == "waiting_on_client"

    second = sync_once(db, settings, now=now + timedelta(minutes=1))
    since = (now - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    last = connected.calls("GET", "/service/tickets")[len(calls)]
    assert last.query["conditions"] == (
        f"lastUpdated > [{since}] and lastUpdated <= "
        f"[{(now + timedelta(minutes=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}]"
    )
    assert second.imported == 0


def test_a_429_waits_as_told_and_a_5xx_backs_off(
    db: Database, settings: Settings, connected: FakeConnectWise
) -> None:
    connected.failures.append(Failure("/service/tickets", 429, {"Retry-After": "90"}))
    now = utcnow()
    assert not sync_once(db, settings, now=now).ok
    with db.unit_of_work() as session:
        assert read_state(session).next_run_at == (now + timedelta(seconds=90)).isoformat()
    connected.failures.append(Failure("/service/tickets", 500))
    later = now + timedelta(seconds=91)
    assert not sync_once(db, settings, now=later, interval=60).ok
    with db.unit_of_work() as session:
        state = read_state(session)
    # Second failure in a row: 60 s of backoff.
    assert state.failures == 2
    assert state.next_run_at == (later + timedelta(seconds=60)).isoformat()
    assert sync_once(db, settings, now=later + timedelta(seconds=61), interval=60).imported == 3


def test_round_trip_with_json_patch_and_internal_notes(
    db: Database, settings: Settings, connected: FakeConnectWise
) -> None:
    tech, owner = staff(db)
    sync_once(db, settings)
    imported = ticket_for(db, "98231")
    patches = [p for t, p in connected.patches if t == 98231]
    assert patches[0] == [
        {
            "op": "replace",
            "path": "customFields",
            "value": [{"id": FIELD_ID, "value": "No (now L1)"}],
        }
    ]
    patch_call = connected.calls("PATCH", "/service/tickets/98231")[0]
    assert header(patch_call, "Content-Type") == "application/json"
    assert not connected.notes

    answer_lockout(db, imported.id, tech, "Cloud only (Entra ID)")
    escalate_to_l2(db, imported.id, owner, "VIP user")
    with db.unit_of_work() as session:
        ticket = session.get(Ticket, imported.id)
        assert ticket is not None
        lifecycle.resolve_ticket(session, ticket, by=owner, override_reason="reset by phone")
    texts = [n["text"] for _, n in connected.notes]
    assert any("account-lockout" in t and "Cloud only" in t for t in texts)
    assert any(t.startswith("Escalated to L2 by Olive") for t in texts)
    for _, note in connected.notes:
        assert note["internalAnalysisFlag"] is True and note["detailDescriptionFlag"] is False
    resolution = [n for _, n in connected.notes if n["resolutionFlag"]]
    assert len(resolution) == 1 and "Resolved in Franchise" in resolution[0]["text"]
    assert connected.field_value(98231, FIELD_ID) == "No (now L2)"
    assert [p for _, p in connected.patches][-1] == [
        {"op": "replace", "path": "status", "value": {"name": "Completed"}}
    ]
    pushed = len(connected.notes), len(connected.patches)
    report = sync_once(db, settings, now=utcnow() + timedelta(seconds=5))
    assert report.updated == 0 and (len(connected.notes), len(connected.patches)) == pushed
    assert ticket_for(db, "98231").status == "resolved"


def test_a_503_on_a_note_is_retried_from_the_outbox(
    db: Database, settings: Settings, connected: FakeConnectWise
) -> None:
    _tech, owner = staff(db)
    sync_once(db, settings)
    imported = ticket_for(db, "98232")
    connected.failures.append(Failure("/service/tickets/98232/notes", 503))
    escalate_to_l2(db, imported.id, owner, "outage")
    item = pending_push(db)
    assert "HTTP 503" in (item.last_error or "")
    due = item.next_attempt_at
    assert due is not None and not connected.notes
    deliver_due(db, settings, now=due)
    assert [n["text"] for _, n in connected.notes] == [
        "Escalated to L2 by Olive in Franchise.\nOverride: outage"
    ]


def _callback(cw: FakeConnectWise, key_url: str) -> bytes:
    body = copy.deepcopy(fixture("callback.json"))
    del body["_source"]
    body["FromUrl"] = cw.url
    body["Metadata"]["key_url"] = key_url
    return json.dumps(body).encode()


def _sign(body: bytes, key: str) -> str:
    hashed = hashlib.sha256(key.encode()).digest()
    return base64.b64encode(hmac.new(hashed, body, hashlib.sha256).digest()).decode()


def test_callbacks_are_accepted_only_with_a_good_signature_from_our_host(
    db: Database, settings: Settings, connected: FakeConnectWise
) -> None:
    app = create_app(settings, db=db)
    good = _callback(connected, connected.root + "/callback-key")
    elsewhere = _callback(connected, "http://127.0.0.2:9/callback-key")
    with TestClient(app) as client:
        url = "/api/v1/psa/webhooks/connectwise"
        forged = client.post(
            url, content=good, headers={"x-content-signature": _sign(good, "guess")}
        )
        unsigned = client.post(url, content=good)
        # A body naming another host's key is refused without fetching it.
        foreign = client.post(
            url, content=elsewhere, headers={"x-content-signature": _sign(elsewhere, SIGNING_KEY)}
        )
        assert (forged.status_code, unsigned.status_code, foreign.status_code) == (401, 401, 401)
        with db.unit_of_work() as session:
            assert read_state(session).requested_at is None
        accepted = client.post(
            url, content=good, headers={"x-content-signature": _sign(good, SIGNING_KEY)}
        )
    assert accepted.status_code == 202
    with db.unit_of_work() as session:
        assert read_state(session).requested_at is not None
    # The forged callback fetched the key once; the good one found it kept.
    assert connected.key_fetches() == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_signing_keys_are_kept_and_a_flood_of_forgeries_cannot_make_us_hammer_connectwise(
    cw: FakeConnectWise, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    keys = connectwise.SigningKeys(ttl=600, size=8, refetch_after=60, per_minute=5, clock=clock)
    monkeypatch.setattr(connectwise, "SIGNING_KEYS", keys)
    connector = connectwise.ConnectWiseConnector(
        ConnectionConfig(vendor="connectwise", base_url=cw.url)
    )

    def post(key_path: str, signing_key: str) -> bool:
        body = _callback(cw, cw.root + key_path)
        return connector.verify_webhook(body, {"x-content-signature": _sign(body, signing_key)})

    try:
        # Many callbacks, genuine or forged with the same key URL: one fetch.
        assert all(post("/callback-key", SIGNING_KEY) for _ in range(20))
        assert not any(post("/callback-key", "guess") for _ in range(20))
        assert cw.key_fetches() == 1
        # A mismatch asks again (the key may have been replaced) at most once a minute.
        clock.now += 61
        assert not any(post("/callback-key", "guess") for _ in range(20))
        assert cw.key_fetches() == 2
        # ConnectWise replaced the key: the first callback signed with it after a minute
        # fetches it, and it is kept from then on.
        cw.signing_keys["/callback-key"] = "replaced-key"
        clock.now += 61
        assert post("/callback-key", "replaced-key")
        assert post("/callback-key", "replaced-key")
        assert not post("/callback-key", SIGNING_KEY)
        assert cw.key_fetches() == 3
        # A kept key is fetched again once ten minutes old.
        clock.now += 601
        assert post("/callback-key", "replaced-key")
        assert cw.key_fetches() == 4

        # Forgeries naming a new key id each: fetches stop at five a minute...
        clock.now += 61
        assert not any(post(f"/callback-key/forged-{i}", "guess") for i in range(50))
        assert cw.key_fetches() == 4 + 5
        # ...and the ids that gave nothing are not asked again within the minute.
        assert not any(post(f"/callback-key/forged-{i}", "guess") for i in range(5))
        assert cw.key_fetches() == 9
        # A new genuine key id waits for the next minute's allowance (the sync still runs).
        cw.signing_keys["/callback-key/new"] = "new-key"
        assert not post("/callback-key/new", "new-key")
        clock.now += 61
        assert post("/callback-key/new", "new-key")
        assert cw.key_fetches() == 10
        # At most `size` keys are kept.
        assert len(keys) <= 8
    finally:
        connector.close()
