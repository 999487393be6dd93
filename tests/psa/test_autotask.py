"""The Autotask connector against an Autotask stand-in on loopback (at_fake.py): the API
user headers, the zone lookup, lastActivityDate filters, nextPageUrl paging, the PATCH of
the user-defined field, notes, 429/5xx, HMAC-signed webhooks, and the round trip."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from franchise.app import create_app
from franchise.db import Database, utcnow
from franchise.outbox.service import deliver_due
from franchise.psa.connectors.store import read_state
from franchise.psa.connectors.sync import sync_once
from franchise.settings import Settings
from franchise.tickets import lifecycle
from franchise.tickets.models import Ticket
from tests.psa.at_fake import CODE, SECRET, USERNAME, FakeAutotask
from tests.psa.recording import Failure, header
from tests.psa.support import (
    answer_lockout,
    connect,
    escalate_to_l2,
    pending_push,
    staff,
    ticket_for,
)

FIELD = "Escalation Allowed"
HOOK_SECRET = "at-webhook-key"


@pytest.fixture
def connected(db: Database, settings: Settings, at: FakeAutotask) -> FakeAutotask:
    connect(
        db,
        settings,
        "autotask",
        at.url,
        options={"username": USERNAME, "integration_code": CODE, "field_name": FIELD},
        secrets={"secret": SECRET, "webhook_secret": HOOK_SECRET},
    )
    return at


def test_sync_looks_up_the_zone_sends_the_headers_filters_and_follows_pages(
    db: Database, settings: Settings, connected: FakeAutotask
) -> None:
    connected.page_size = 2
    now = utcnow()
    report = sync_once(db, settings, now=now)
    assert (report.ok, report.received, report.pages, report.imported) == (True, 3, 2, 3)
    zone = connected.calls("GET", "/zoneInformation")
    assert len(zone) == 1 and zone[0].query == {"user": USERNAME}
    query = connected.calls("POST", "/Tickets/query")[0]
    assert query.path.startswith("/zone2/atservicesrest/v1.0/")  # the zone's own host and path
    assert (
        header(query, "ApiIntegrationCode"),
        header(query, "UserName"),
        header(query, "Secret"),
    ) == (
        CODE,
        USERNAME,
        SECRET,
    )
    assert query.json() == {
        "filter": [
            {"op": "lte", "field": "lastActivityDate", "value": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
        ]
    }
    assert len(connected.calls("GET", "/Tickets/query")) == 1  # the nextPageUrl
    lockout = ticket_for(db, "T20261203.0001")
    assert (lockout.title, lockout.status, lockout.priority) == (
        "Locked out after password change",
        "new",
        "normal",
    )
    scanner = ticket_for(db, "T20261203.0002")
    assert (scanner.status, scanner.priority) == ("in_progress", "high")
    with db.unit_of_work() as session:
        from franchise.clients.models import Client

        names = sorted(c.name for c in session.scalars(select(Client)))
    assert "Harbour Dental" in names and "Northside Legal" in names

    again = sync_once(db, settings, now=now + timedelta(minutes=1))
    last = connected.calls("POST", "/Tickets/query")[-1].json()["filter"]
    assert last[0] == {
        "op": "gt",
        "field": "lastActivityDate",
        "value": (now - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert again.imported == 0


def test_a_429_and_a_5xx_are_waited_out(
    db: Database, settings: Settings, connected: FakeAutotask
) -> None:
    connected.failures.append(
        Failure("/zone2/atservicesrest/v1.0/Tickets/entityInformation", 429, {"Retry-After": "45"})
    )
    now = utcnow()
    assert not sync_once(db, settings, now=now).ok
    with db.unit_of_work() as session:
        assert read_state(session).next_run_at == (now + timedelta(seconds=45)).isoformat()
    connected.failures.append(Failure("/zone2/atservicesrest/v1.0/Tickets/query", 500))
    assert not sync_once(db, settings, now=now + timedelta(seconds=46), interval=60).ok
    assert sync_once(db, settings, now=now + timedelta(seconds=200), interval=60).imported == 3


def test_round_trip_user_defined_field_notes_and_completion(
    db: Database, settings: Settings, connected: FakeAutotask
) -> None:
    tech, owner = staff(db)
    sync_once(db, settings)
    number = "T20261203.0001"
    imported = ticket_for(db, number)
    assert {
        "id": 7001,
        "userDefinedFields": [{"name": FIELD, "value": "No (now L1)"}],
    } in connected.patches
    answer_lockout(db, imported.id, tech, "Cloud only (Entra ID)")
    escalate_to_l2(db, imported.id, owner, "board member")
    with db.unit_of_work() as session:
        ticket = session.get(Ticket, imported.id)
        assert ticket is not None
        lifecycle.resolve_ticket(session, ticket, by=owner, override_reason="fixed on the call")
    notes = [n for t, n in connected.notes if t == 7001]
    assert all(n["ticketID"] == 7001 and n["publish"] == 1 and n["noteType"] == 1 for n in notes)
    descriptions = [n["description"] for n in notes]
    assert any("Cloud only" in d for d in descriptions)
    assert any(d.startswith("Escalated to L2 by Olive") for d in descriptions)
    assert notes[-1]["title"] == "Franchise: resolution"
    assert connected.patches[-1] == {"id": 7001, "status": 5}
    assert connected.udf(7001, FIELD) == "No (now L2)"
    pushed = len(connected.notes), len(connected.patches)
    report = sync_once(db, settings, now=utcnow() + timedelta(seconds=5))
    assert report.updated == 0 and (len(connected.notes), len(connected.patches)) == pushed
    assert ticket_for(db, number).status == "resolved"


def test_a_note_refused_with_503_is_sent_on_retry(
    db: Database, settings: Settings, connected: FakeAutotask
) -> None:
    _tech, owner = staff(db)
    sync_once(db, settings)
    imported = ticket_for(db, "T20261203.0002")
    connected.failures.append(Failure("/zone2/atservicesrest/v1.0/Tickets/7002/Notes", 503))
    escalate_to_l2(db, imported.id, owner, "outage")
    item = pending_push(db)
    assert "HTTP 503" in (item.last_error or "")
    due = item.next_attempt_at
    assert due is not None and not [n for t, n in connected.notes if t == 7002]
    deliver_due(db, settings, now=due)
    assert [n["description"] for t, n in connected.notes if t == 7002] == [
        "Escalated to L2 by Olive in Franchise.\nOverride: outage"
    ]


def _sign(body: bytes, key: str) -> str:
    return "sha1=" + base64.b64encode(hmac.new(key.encode(), body, hashlib.sha1).digest()).decode()


def test_webhooks_are_accepted_only_with_the_hmac_signature(
    db: Database, settings: Settings, connected: FakeAutotask
) -> None:
    app = create_app(settings, db=db)
    body = json.dumps(
        {"Action": "Update", "Guid": "b0e7", "EntityType": "Ticket", "Id": 7001}
    ).encode()
    url = "/api/v1/psa/webhooks/autotask"
    with TestClient(app) as client:
        forged = client.post(url, content=body, headers={"X-Hook-Signature": _sign(body, "guess")})
        tampered = client.post(
            url, content=body + b" ", headers={"X-Hook-Signature": _sign(body, HOOK_SECRET)}
        )
        unsigned = client.post(url, content=body)
        assert (forged.status_code, tampered.status_code, unsigned.status_code) == (401, 401, 401)
        with db.unit_of_work() as session:
            assert read_state(session).requested_at is None
        accepted = client.post(
            url, content=body, headers={"X-Hook-Signature": _sign(body, HOOK_SECRET)}
        )
    assert accepted.status_code == 202
    with db.unit_of_work() as session:
        assert read_state(session).requested_at is not None


def test_the_credentials_go_only_to_the_configured_service() -> None:
    from franchise.psa.connectors.autotask import _same_service

    base = "https://webservices.autotask.net/atservicesrest"
    assert _same_service(base, "https://webservices15.autotask.net/atservicesrest/")
    assert _same_service(base, "https://webservices.autotask.net/other")
    assert not _same_service(base, "http://webservices15.autotask.net/atservicesrest/")
    assert not _same_service(base, "https://autotask.net.evil.example/atservicesrest/")
    assert not _same_service(base, "https://169.254.169.254/latest/")
    loopback = "http://127.0.0.1:8080/atservicesrest"
    assert _same_service(loopback, "http://127.0.0.1:8080/zone2/atservicesrest/")
    assert not _same_service(loopback, "http://127.0.0.2:8080/zone2/")
