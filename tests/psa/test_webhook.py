"""The outbox and its signed delivery, against a real HTTP server on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from franchise.cli.context import CliContext
from franchise.db import Database, utcnow
from franchise.errors import InvalidInput
from franchise.psa.models import WebhookEvent
from franchise.psa.webhook import MAX_AGE, DeliveryReport, deliver_outbox, verify_signature
from franchise.tickets.models import Ticket, TicketEvent
from franchise.tickets.service import change_ticket, create_ticket
from tests.psa.support import PsaSettings
from tests.psa.test_import import cli_app

SECRET = "correct horse battery staple"


class Receiver:
    """A PSA stand-in: records each POST and answers with the next queued status."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                # What a real receiver does: refuse anything whose signature does not check.
                if not verify_signature(body, self.headers.get("X-Franchise-Signature"), SECRET):
                    status = 401
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"nope")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/franchise-hook"

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()
    thread.join(5)


def settings_for(url: str, secret: str = SECRET) -> PsaSettings:
    return PsaSettings(psa_webhook_url=url, psa_webhook_secret=secret)


def change(session: Session, ticket: Ticket, **fields: Any) -> WebhookEvent | None:
    """Change a ticket and return the outbox event the change wrote, if any."""
    before = len(pending(session))
    change_ticket(session, ticket, actor=None, **fields)
    made = pending(session)[before:]
    assert len(made) <= 1
    return made[0] if made else None


def deliver(
    session: Session,
    db: Database,
    settings: PsaSettings,
    limit: int,
    *,
    now: datetime | None = None,
) -> DeliveryReport:
    """Deliver as a run after the commit does; the test's session then sees the outcome."""
    session.flush()
    report = deliver_outbox(db, settings, limit, now=now)
    session.expire_all()
    return report


def pending(session: Session) -> list[WebhookEvent]:
    return list(session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))


def test_a_status_change_is_posted_signed_with_its_event_id(
    integrated: bool, session: Session, db: Database, receiver: Receiver
) -> None:
    ticket = create_ticket(session, title="VPN down", source="import", external_id="48211")
    event = change(session, ticket, status="in_progress")
    assert event is not None
    report = deliver(session, db, settings_for(receiver.url), 10)
    assert (report.delivered, report.failed) == (1, 0)
    headers, body = receiver.requests[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Franchise-Signature"] == expected
    assert headers["X-Franchise-Event-Id"] == event.event_id
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["event"] == "ticket.changed"
    assert payload["event_id"] == event.event_id
    assert payload["changes"]["status"] == {"old": None, "new": "in_progress"}
    assert payload["ticket"]["external_id"] == "48211"
    assert event.delivered_at is not None
    assert event.attempts == 1


def test_only_status_level_and_escalation_allowed_changes_are_sent(
    integrated: bool, session: Session
) -> None:
    ticket = create_ticket(session, title="Printer jam")
    assert change(session, ticket, status="in_progress") is not None
    assert change(session, ticket, priority="high") is None
    assert change(session, ticket, custom_fields={"escalation_allowed": "no"}) is not None
    # Another custom field, or the same escalation answer again: nothing to tell.
    assert change(session, ticket, custom_fields={"escalation_allowed": "no", "x": 1}) is None
    event = change(session, ticket, level="L2", status="escalated")
    assert event is not None
    assert event.payload["changes"] == {
        "status": {"old": "in_progress", "new": "escalated"},
        "level": {"old": "L1", "new": "L2"},
    }
    assert len(pending(session)) == 3


def test_a_failed_delivery_is_retried_with_backoff(
    integrated: bool, session: Session, db: Database, receiver: Receiver
) -> None:
    ticket = create_ticket(session, title="Backup failed")
    change(session, ticket, status="in_progress")
    receiver.statuses = [503]
    settings = settings_for(receiver.url)
    now = utcnow()
    first = deliver(session, db, settings, 10, now=now)
    assert (first.delivered, first.failed) == (0, 1)
    event = pending(session)[0]
    assert event.attempts == 1
    assert event.last_error == "HTTP 503: nope"
    assert event.next_attempt_at == now + timedelta(seconds=30)
    too_soon = deliver(session, db, settings, 10, now=now + timedelta(seconds=10))
    assert (too_soon.delivered, too_soon.waiting, len(receiver.requests)) == (0, 1, 1)
    receiver.statuses = [500]
    deliver(session, db, settings, 10, now=now + timedelta(seconds=31))
    assert event.attempts == 2
    assert event.next_attempt_at == now + timedelta(seconds=31) + timedelta(minutes=1)
    later = deliver(session, db, settings, 10, now=now + timedelta(minutes=2))
    assert later.delivered == 1
    assert event.delivered_at is not None
    # The receiver saw the same event id three times: it drops repeats by that id.
    assert len({h["X-Franchise-Event-Id"] for h, _ in receiver.requests}) == 1


def test_later_events_of_a_ticket_wait_for_an_earlier_one_that_failed(
    integrated: bool, session: Session, db: Database, receiver: Receiver
) -> None:
    one = create_ticket(session, title="One")
    two = create_ticket(session, title="Two")
    change(session, one, status="in_progress")
    change(session, two, status="in_progress")
    change(session, one, status="resolved")
    receiver.statuses = [500]
    report = deliver(session, db, settings_for(receiver.url), 10)
    assert (report.delivered, report.failed, report.waiting) == (1, 1, 1)
    assert [p["ticket"]["title"] for p in receiver.payloads()] == ["One", "Two"]


def test_a_wrong_secret_is_refused_by_the_receiver(
    integrated: bool, session: Session, db: Database, receiver: Receiver
) -> None:
    ticket = create_ticket(session, title="One")
    change(session, ticket, status="in_progress")
    report = deliver(session, db, settings_for(receiver.url, secret="guessed"), 10)
    assert report.failed == 1
    assert report.errors[0]["error"] == "HTTP 401: nope"


def test_an_unreachable_receiver_is_an_error_not_a_crash(
    integrated: bool, session: Session, db: Database
) -> None:
    ticket = create_ticket(session, title="One")
    change(session, ticket, status="in_progress")
    report = deliver(session, db, settings_for("http://127.0.0.1:9/hook"), 10)
    assert report.failed == 1
    assert "ConnectError" in report.errors[0]["error"]


def test_events_too_old_to_matter_are_given_up(
    integrated: bool, session: Session, db: Database, receiver: Receiver
) -> None:
    ticket = create_ticket(session, title="One")
    change(session, ticket, status="in_progress")
    later = utcnow() + MAX_AGE + timedelta(minutes=1)
    report = deliver(session, db, settings_for(receiver.url), 10, now=later)
    assert (report.gave_up, receiver.requests) == (1, [])
    assert pending(session)[0].gave_up_at == later


def test_nothing_is_sent_without_a_url_or_a_secret(
    integrated: bool, session: Session, db: Database
) -> None:
    with pytest.raises(InvalidInput, match="FRANCHISE_PSA_WEBHOOK_URL"):
        deliver(session, db, settings_for(""), 10)
    with pytest.raises(InvalidInput, match="never sent unsigned"):
        deliver(session, db, settings_for("http://127.0.0.1:9/", secret=""), 10)


def rolled_back(db: Database) -> None:
    with db.unit_of_work() as session:
        ticket = create_ticket(session, title="Rolled back")
        change_ticket(session, ticket, actor=None, status="in_progress")
        assert len(pending(session)) == 1
        raise RuntimeError("abort")


def test_change_ticket_writes_the_outbox_in_the_same_transaction(
    integrated: bool, db: Database
) -> None:
    with pytest.raises(RuntimeError, match="abort"):
        rolled_back(db)
    with db.unit_of_work() as session:
        assert pending(session) == []
        ticket = create_ticket(session, title="Kept")
        change_ticket(session, ticket, actor=None, status="in_progress", level="L2")
    with db.unit_of_work() as session:
        [event] = pending(session)
        assert set(event.payload["changes"]) == {"status", "level"}


def test_cli_deliver(integrated: bool, db: Database, receiver: Receiver, tmp_path: Path) -> None:
    with db.unit_of_work() as session:
        ticket = create_ticket(session, title="One")
        change(session, ticket, status="in_progress")
    settings = PsaSettings(home=tmp_path, psa_webhook_url=receiver.url, psa_webhook_secret=SECRET)
    context = CliContext(_settings=settings, db=db, migrated=True)
    result = CliRunner().invoke(cli_app(), ["webhooks", "deliver", "--json"], obj=context)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["delivered"] == 1
    receiver.statuses = [500]
    with db.unit_of_work() as session:
        change(session, session.get_one(Ticket, ticket.id), status="resolved")
    failed = CliRunner().invoke(cli_app(), ["webhooks", "deliver"], obj=context)
    assert failed.exit_code == 1
    assert "0 delivered, 1 failed (will retry)" in failed.stdout
    assert "HTTP 500" in failed.stderr


def test_the_ticket_history_shows_the_failure_then_the_delivery(
    integrated: bool, session: Session, db: Database, receiver: Receiver
) -> None:
    ticket = create_ticket(session, title="Backup failed")
    change(session, ticket, status="in_progress")
    receiver.statuses = [503]
    settings = settings_for(receiver.url)
    now = utcnow()
    deliver(session, db, settings, 10, now=now)
    deliver(session, db, settings, 10, now=now + timedelta(seconds=30))
    notes = [
        (e.kind, e.note)
        for e in session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind.startswith("psa_"))
            .order_by(TicketEvent.id)
        )
    ]
    retry_at = now + timedelta(seconds=30)
    # The first event tells the PSA everything it never heard: status and level.
    assert notes == [
        (
            "psa_webhook_failed",
            f"PSA webhook failed: HTTP 503: nope; retrying at {retry_at:%H:%M:%S} UTC "
            "(status in_progress, level L1)",
        ),
        ("psa_webhook", "told the PSA: status in_progress, level L1"),
    ]
