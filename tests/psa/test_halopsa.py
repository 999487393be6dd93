"""The HaloPSA connector against a Halo stand-in on loopback (halo_fake.py): every request it
sends is checked (OAuth2 client credentials, date filters, paging, the custom field and
private-note bodies), and so are 429, 5xx, an outage and the round trip on both databases."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from franchise.app import create_app
from franchise.db import Database, utcnow
from franchise.outbox.models import OutboxItem
from franchise.outbox.service import deliver_due
from franchise.psa.connectors import halopsa
from franchise.psa.connectors.service import check_connection, sync_status
from franchise.psa.connectors.store import load_connection, read_state, save_connection
from franchise.psa.connectors.sync import sync_once
from franchise.settings import Settings
from franchise.tickets import lifecycle
from franchise.tickets.models import Ticket, TicketEvent
from franchise.tickets.service import change_ticket
from tests.psa.halo_fake import CLIENT_ID, CLIENT_SECRET, FakeHalo
from tests.psa.recording import Failure
from tests.psa.support import (
    answer_lockout,
    connect,
    escalate_to_l2,
    pending_push,
    staff,
    ticket_for,
)

FIELD_ID = 142
WEBHOOK_PASSWORD = "hook-pass-7"


@pytest.fixture
def connected(db: Database, settings: Settings, halo: FakeHalo) -> FakeHalo:
    connect(
        db,
        settings,
        "halopsa",
        halo.url,
        options={"client_id": CLIENT_ID, "field_id": str(FIELD_ID), "webhook_user": "halo"},
        secrets={"client_secret": CLIENT_SECRET, "webhook_password": WEBHOOK_PASSWORD},
    )
    return halo


def test_first_sync_signs_in_and_reads_every_page(
    db: Database, settings: Settings, connected: FakeHalo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(halopsa, "PAGE_SIZE", 2)
    now = utcnow()
    report = sync_once(db, settings, now=now)
    # Three pages: each asks from the newest change the last one brought (less a second),
    # and the ticket read twice on the way counts once.
    assert (report.ok, report.received, report.pages, report.imported) == (True, 3, 3, 3)

    token = connected.api_calls("POST", "/auth/token")[0]
    assert token.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert token.form() == {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scope": "all",
    }
    pages = connected.api_calls("GET", "/api/Tickets")
    assert [p.query["page_no"] for p in pages] == ["1", "1", "1"]
    # The first sync has no lower bound; then it moves up with the changes read.
    assert [p.query.get("lastupdatefromdate") for p in pages] == [
        None,
        "2026-12-03T08:40:59",
        "2026-12-03T09:04:59",
    ]
    for page in pages:
        assert page.headers["Authorization"] == "Bearer token-1"
        assert page.query["pageinate"] == "true"
        assert page.query["page_size"] == "2"
        assert (page.query["order"], page.query["orderdesc"]) == ("last_update", "false")
        # The upper bound is the sync's own start.
        assert page.query["lastupdatetodate"] == now.strftime("%Y-%m-%dT%H:%M:%S")

    lockout = ticket_for(db, "4101")
    assert (lockout.title, lockout.status, lockout.priority) == (
        "Sarah locked out of her account again",
        "new",
        "normal",
    )
    vpn = ticket_for(db, "4102")
    assert (vpn.status, vpn.priority) == ("in_progress", "high")
    printer = ticket_for(db, "4103")
    assert (printer.status, printer.priority) == ("waiting_on_client", "low")


def test_a_ticket_edited_in_halo_during_the_pull_never_makes_another_be_skipped(
    db: Database, settings: Settings, connected: FakeHalo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(halopsa, "PAGE_SIZE", 2)

    def edit_the_first(fake: FakeHalo) -> None:
        # Edited after the first page was read: it leaves the window (changed after the
        # sync began), and with page numbers the third ticket would slide onto page one.
        if len(fake.api_calls("GET", "/api/Tickets")) == 1:
            fake.touch(fake.tickets[4101])

    connected.after_list = edit_the_first
    report = sync_once(db, settings, now=utcnow() - timedelta(seconds=5))
    assert (report.ok, report.received, report.imported) == (True, 3, 3)
    for number in ("4101", "4102", "4103"):
        ticket_for(db, number)


def test_tickets_changed_in_the_same_second_are_read_by_page_number(
    db: Database, settings: Settings, connected: FakeHalo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(halopsa, "PAGE_SIZE", 2)
    for ticket in connected.tickets.values():
        ticket["last_update"] = "2026-12-03T09:05:00"
    report = sync_once(db, settings, now=utcnow())
    assert (report.ok, report.received, report.imported) == (True, 3, 3)
    pages = connected.api_calls("GET", "/api/Tickets")
    # No headway by time after the second page: the next page number at the same bound.
    assert [(p.query.get("lastupdatefromdate"), p.query["page_no"]) for p in pages] == [
        (None, "1"),
        ("2026-12-03T09:04:59", "1"),
        ("2026-12-03T09:04:59", "2"),
    ]


def test_next_sync_asks_from_the_cursor_and_imports_nothing_twice(
    db: Database, settings: Settings, connected: FakeHalo
) -> None:
    first = utcnow() - timedelta(minutes=10)
    sync_once(db, settings, now=first)
    with db.unit_of_work() as session:
        state = read_state(session)
    # The cursor overlaps the last window by two minutes (clock skew); stored as ISO.
    assert state.cursor == (first - timedelta(minutes=2)).isoformat()
    count = _ticket_count(db)

    second = sync_once(db, settings, now=first + timedelta(minutes=5))
    asked = connected.api_calls("GET", "/api/Tickets")[-1]
    assert asked.query["lastupdatefromdate"] == (first - timedelta(minutes=2)).strftime(
        "%Y-%m-%dT%H:%M:%S"
    )
    assert second.imported == 0
    assert _ticket_count(db) == count


def _ticket_count(db: Database) -> int:
    with db.unit_of_work() as session:
        return len(list(session.scalars(select(Ticket.id))))


def test_a_change_made_in_halo_wins_and_an_edit_made_here_is_kept(
    db: Database, settings: Settings, connected: FakeHalo
) -> None:
    sync_once(db, settings)
    vpn = ticket_for(db, "4102")
    with db.unit_of_work() as session:
        ticket = session.get(Ticket, vpn.id)
        assert ticket is not None
        change_ticket(session, ticket, actor=None, title="VPN error 809 (home router)")
    connected.tickets[4102]["priority_id"] = 1  # raised to critical in Halo
    connected.touch(connected.tickets[4102])
    report = sync_once(db, settings, now=utcnow() + timedelta(seconds=5))
    assert report.updated == 1
    after = ticket_for(db, "4102")
    assert after.priority == "critical"
    assert after.title == "VPN error 809 (home router)"


def test_a_429_is_waited_out_as_halo_says_and_nothing_is_lost(
    db: Database, settings: Settings, connected: FakeHalo
) -> None:
    connected.failures.append(Failure("/api/Tickets", 429, {"Retry-After": "120"}))
    now = utcnow()
    report = sync_once(db, settings, now=now)
    assert not report.ok and "HTTP 429" in (report.error or "")
    with db.unit_of_work() as session:
        state = read_state(session)
    assert state.cursor is None  # the window is asked again
    assert state.failures == 1
    assert state.next_run_at == (now + timedelta(seconds=120)).isoformat()
    # The background loop does not come back before Retry-After ...
    assert sync_once(db, settings, now=now + timedelta(seconds=119), interval=60).skipped
    # ... and afterwards catches up on everything.
    later = sync_once(db, settings, now=now + timedelta(seconds=121), interval=60)
    assert (later.ok, later.imported) == (True, 3)


def test_an_answer_of_an_unexpected_shape_is_a_failure_not_a_stuck_sync(
    db: Database, settings: Settings, connected: FakeHalo
) -> None:
    connected.failures.append(Failure("/api/Tickets", 200, body=["not", "an", "object"]))
    now = utcnow()
    report = sync_once(db, settings, now=now)
    assert not report.ok and "could not read" in (report.error or "")
    with db.unit_of_work() as session:
        state = read_state(session)
    assert (state.failures, state.running_until, state.cursor) == (1, None, None)
    assert state.last_error == report.error
    later = sync_once(db, settings, now=now + timedelta(seconds=31))
    assert (later.ok, later.imported) == (True, 3)


def test_a_5xx_during_sync_backs_off_and_an_expired_token_is_renewed(
    db: Database, settings: Settings, connected: FakeHalo
) -> None:
    connected.failures.append(Failure("/api/Status", 503))
    now = utcnow()
    assert not sync_once(db, settings, now=now).ok
    with db.unit_of_work() as session:
        assert read_state(session).next_run_at == (now + timedelta(seconds=30)).isoformat()
    connected.valid_tokens.clear()  # Halo forgot the token: one 401, then a new sign-in
    assert sync_once(db, settings, now=now + timedelta(seconds=31)).ok
    assert connected.tokens_issued == 2


def test_bad_credentials_are_named_by_the_connection_test(
    db: Database, settings: Settings, halo: FakeHalo
) -> None:
    with db.unit_of_work() as session:
        save_connection(
            session,
            settings,
            vendor="halopsa",
            url=halo.url,
            options={"client_id": "wrong", "field_id": "1"},
            secrets={"client_secret": "nope"},
        )
    with pytest.raises(Exception, match="HaloPSA sign-in: HTTP 401"):
        check_connection(db, settings)


def test_the_credentials_are_stored_sealed(
    db: Database, settings: Settings, connected: FakeHalo
) -> None:
    from franchise.orgsettings.models import OrgSetting

    with db.unit_of_work() as session:
        row = session.get(OrgSetting, "psa_connection")
        assert row is not None
        stored = json.dumps(row.value)
        assert CLIENT_SECRET not in stored and WEBHOOK_PASSWORD not in stored
        config = load_connection(session, settings)
        assert config is not None and config.secrets["client_secret"] == CLIENT_SECRET
        status = sync_status(session, settings)
    assert CLIENT_SECRET not in json.dumps(status)
    assert status["secrets_set"] == ["client_secret", "webhook_password"]


def test_round_trip_ticket_in_runbook_escalation_resolution_out(
    db: Database, settings: Settings, connected: FakeHalo
) -> None:
    tech, owner = staff(db)
    sync_once(db, settings)
    number = "4101"
    imported = ticket_for(db, number)
    # The escalation answer the import computed goes to the configured field.
    assert connected.field_value(4101, FIELD_ID) is not None
    assert connected.field_value(4101, FIELD_ID).startswith("No (now L1)")  # type: ignore[union-attr]
    actions_before = len(connected.actions)
    assert actions_before == 0  # an import writes no note back to Halo

    answer_lockout(db, imported.id, tech, "Hybrid (on-premises AD synced to Entra ID)")
    notes = [a for a in connected.actions if a["outcome"] == "Private Note"]
    assert notes, "the runbook answer was not sent to Halo"
    first = notes[0]
    assert first["ticket_id"] == 4101 and first["hiddenfromuser"] is True
    assert "account-lockout" in first["note"] and "Hybrid" in first["note"]

    escalate_to_l2(db, imported.id, owner, "client director asked")
    escalation_notes = [a for a in connected.actions if "Escalated to L2" in a["note"]]
    assert len(escalation_notes) == 1
    assert "client director asked" in escalation_notes[0]["note"]
    assert "(now L2)" in (connected.field_value(4101, FIELD_ID) or "")

    with db.unit_of_work() as session:
        ticket = session.get(Ticket, imported.id)
        assert ticket is not None
        lifecycle.resolve_ticket(session, ticket, by=owner, override_reason="unlocked by phone")
    resolution = [a for a in connected.actions if a["outcome"] == "Resolution"]
    assert len(resolution) == 1
    # No status configured: Halo's status named "Resolved" (21 in the fixture), not Closed.
    assert resolution[0]["new_status"] == 21 and resolution[0]["hiddenfromuser"] is True
    assert "Resolved in Franchise" in resolution[0]["note"]
    assert "account-lockout" in resolution[0]["note"]

    # Halo now reports the ticket changed (our own writes): the next sync brings nothing back
    # and pushes nothing more.
    pushed = len(connected.actions), len(connected.api_calls("POST", "/api/Tickets"))
    report = sync_once(db, settings, now=utcnow() + timedelta(seconds=5))
    assert report.updated == 0
    assert (len(connected.actions), len(connected.api_calls("POST", "/api/Tickets"))) == pushed
    assert ticket_for(db, number).status == "resolved"
    with db.unit_of_work() as session:
        kinds = [
            e.kind
            for e in session.scalars(
                select(TicketEvent).where(TicketEvent.ticket_id == imported.id)
            )
        ]
    assert "psa_push" in kinds and "psa_push_failed" not in kinds


def test_a_halo_outage_queues_pushes_and_delivers_them_when_it_is_back(
    db: Database, settings: Settings, connected: FakeHalo
) -> None:
    _tech, owner = staff(db)
    sync_once(db, settings)
    imported = ticket_for(db, "4102")
    connected.failures.extend(
        [Failure("/api/Actions", 502), Failure("/api/Actions", 429, {"Retry-After": "600"})]
    )
    escalate_to_l2(db, imported.id, owner, "outage test")
    item = pending_push(db)
    assert item.attempts == 1 and "HTTP 502" in (item.last_error or "")
    first_retry = item.next_attempt_at
    assert first_retry is not None
    with db.unit_of_work() as session:
        assert sync_status(session, settings)["queued"] == 1
    # The 5xx backs off (30 s); the retry meets a 429 whose Retry-After (600 s) wins over
    # the next backoff (60 s).
    retry_time = first_retry + timedelta(seconds=1)
    deliver_due(db, settings, now=retry_time)
    item = pending_push(db)
    assert item.attempts == 2
    assert item.next_attempt_at == retry_time + timedelta(seconds=600)
    assert not [a for a in connected.actions if "outage test" in a["note"]]
    deliver_due(db, settings, now=retry_time + timedelta(seconds=601))
    assert len([a for a in connected.actions if "outage test" in a["note"]]) == 1
    with db.unit_of_work() as session:
        assert sync_status(session, settings)["queued"] == 0


def test_the_webhook_needs_halo_s_credentials_and_requests_a_sync(
    db: Database, settings: Settings, connected: FakeHalo
) -> None:
    app = create_app(settings, db=db)
    body = json.dumps({"id": 4101, "event": "ticket updated"}).encode()
    good = "Basic " + base64.b64encode(f"halo:{WEBHOOK_PASSWORD}".encode()).decode()
    bad = "Basic " + base64.b64encode(b"halo:guess").decode()
    with TestClient(app) as client:
        refused = client.post(
            "/api/v1/psa/webhooks/halopsa", content=body, headers={"Authorization": bad}
        )
        missing = client.post("/api/v1/psa/webhooks/halopsa", content=body)
        other = client.post(
            "/api/v1/psa/webhooks/autotask", content=body, headers={"Authorization": good}
        )
        with db.unit_of_work() as session:
            assert read_state(session).requested_at is None
        accepted = client.post(
            "/api/v1/psa/webhooks/halopsa", content=body, headers={"Authorization": good}
        )
    assert (refused.status_code, missing.status_code, other.status_code) == (401, 401, 401)
    assert accepted.status_code == 202
    with db.unit_of_work() as session:
        state = read_state(session)
    assert state.requested_at is not None
    # A requested sync runs at the next tick even inside the interval.
    assert state.due(datetime.fromisoformat(state.requested_at), 3600)


def _json(result: Any) -> Any:
    return json.loads(result.stdout)


def test_a_sync_under_way_is_not_run_twice_at_once(
    db: Database, settings: Settings, connected: FakeHalo
) -> None:
    from franchise.psa.connectors.store import write_state

    now = utcnow()
    with db.unit_of_work() as session:
        state = read_state(session)
        state.running_until = (now + timedelta(minutes=1)).isoformat()
        write_state(session, state)
    assert sync_once(db, settings, now=now).skipped == "another sync is under way"
    assert connected.api_calls("GET", "/api/Tickets") == []
    # A sync whose process died is taken over once its lease has run out.
    later = sync_once(db, settings, now=now + timedelta(minutes=1, seconds=1))
    assert later.skipped is None and later.imported == 3


def test_an_older_escalation_answer_waiting_for_a_retry_never_overwrites_a_newer_one(
    db: Database, settings: Settings, connected: FakeHalo
) -> None:
    from franchise.psa.connectors.outbound import _same_as_last_fields, _supersede_waiting_fields

    sync_once(db, settings)
    imported = ticket_for(db, "4102")
    answer = {"op": "fields", "allowed": True, "to": "L2", "level": "L1", "number": "4102"}
    with db.unit_of_work() as session:
        later = utcnow() + timedelta(minutes=10)
        waiting = OutboxItem(
            kind="psa_push", ticket_id=imported.id, payload=answer, next_attempt_at=later
        )
        gave_up = OutboxItem(
            kind="psa_push", ticket_id=imported.id, payload={**answer, "level": "L2"}
        )
        gave_up.state = "failed"
        session.add_all([waiting, gave_up])
        session.flush()
        ticket = session.get(Ticket, imported.id)
        assert ticket is not None
        # A push that failed for good proves nothing: the answer is compared with the last
        # one still on its way.
        assert not _same_as_last_fields(session, ticket, {**answer, "level": "L2"})
        assert _same_as_last_fields(session, ticket, answer)
        _supersede_waiting_fields(session, ticket)
        assert waiting.state == "failed"
        assert "superseded" in (waiting.last_error or "")
