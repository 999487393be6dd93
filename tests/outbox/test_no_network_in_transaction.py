"""A transaction never waits on a network: while the SMTP server stalls, other writes to the
same ticket go through (SQLite's one write lock, PostgreSQL's row locks), and two senders at
once deliver each item once. Committed databases, both backends."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select

from franchise.accounts.service import add_staff, get_staff
from franchise.app import create_app
from franchise.clients.models import ClientContact
from franchise.clients.service import add_client
from franchise.db import Database, utcnow
from franchise.flows.sender import Sender
from franchise.messages import service
from franchise.outbox.models import OutboxItem
from franchise.outbox.service import deliver_due
from franchise.settings import Settings
from franchise.tickets.lifecycle import set_status
from franchise.tickets.service import create_ticket, get_ticket
from tests.alerts.committed import BACKENDS, committed_database
from tests.messages.conftest import SENDER, Collector, free_port

STALL_SECONDS = 20.0


class StalledSmtp:
    """Accepts connections and never greets, until released: an SMTP server that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = int(self.sock.getsockname()[1])
        self.connected = threading.Event()
        self.release = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        self.connected.set()
        self.release.wait(STALL_SECONDS)
        conn.close()

    def close(self) -> None:
        self.release.set()
        self._thread.join(5)
        self.sock.close()


def smtp_settings(tmp_path: Path, port: int) -> Settings:
    return Settings(
        home=tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none", smtp_from=SENDER
    )


@pytest.fixture(params=BACKENDS)
def committed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with committed_database(request.param, tmp_path) as (_url, db):
        with db.unit_of_work() as session:
            add_staff(
                session, name="Priya Shah", email="priya@msp.example", role="technician", level="L1"
            )
            client = add_client(session, name="Harbour Dental")
            session.add(
                ClientContact(
                    client_id=client.id,
                    name="Dana Whitfield",
                    email="dana@harbour.example",
                    is_primary=True,
                )
            )
            for n in range(3):
                create_ticket(session, title=f"VPN down {n}", client=client.id)
        yield db


def send(db: Database, ticket_id: int, settings: Settings) -> int:
    with db.unit_of_work() as session:
        message = service.send_message(
            session,
            get_ticket(session, ticket_id),
            template="update",
            by=get_staff(session, "priya@msp.example"),
            settings=settings,
        )
        return message.id


def test_other_writes_to_the_ticket_go_through_while_smtp_stalls(
    committed: Database, tmp_path: Path
) -> None:
    smtp = StalledSmtp()
    settings = smtp_settings(tmp_path, smtp.port)
    sent: list[int] = []
    sender = threading.Thread(target=lambda: sent.append(send(committed, 1, settings)))
    try:
        sender.start()
        assert smtp.connected.wait(10), "the delivery never reached the SMTP server"
        # The send's transaction is committed; its e-mail hangs on the server. A write to
        # the same ticket takes the write lock (SQLite) and the ticket's row (PostgreSQL).
        started = time.monotonic()
        with committed.unit_of_work() as session:
            set_status(session, get_ticket(session, 1), "in_progress", by=None)
        waited = time.monotonic() - started
        assert sender.is_alive(), "the SMTP server did not stall the delivery"
    finally:
        smtp.close()
        sender.join(40)
    # Far below the stall (20 s) and SQLite's busy timeout (30 s): nothing held a lock.
    assert waited < 2.0
    [message_id] = sent
    message = service.reload_message(committed, message_id)
    assert message.status == "retrying"
    with committed.unit_of_work() as session:
        assert get_ticket(session, 1).status == "in_progress"


def test_two_senders_at_once_deliver_each_item_once(committed: Database, tmp_path: Path) -> None:
    # Queued while the server is down, so all wait for a retry.
    down = smtp_settings(tmp_path, free_port())
    for ticket_id in (1, 2, 3, 1, 2, 3):
        send(committed, ticket_id, down)
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    up = smtp_settings(tmp_path, controller.port)
    later = utcnow() + timedelta(minutes=1)
    results: list[dict[int, object]] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        results.append(dict(deliver_due(committed, up, limit=50, now=later)))

    threads = [threading.Thread(target=run) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        controller.stop()
    assert len(results) == 2
    first, second = (set(r) for r in results)
    assert not first & second
    assert len(first | second) == 6
    assert len(collector.envelopes) == 6
    with committed.unit_of_work() as session:
        states = session.scalars(select(OutboxItem.state)).all()
    assert states == ["delivered"] * 6


def test_the_background_sender_of_serve_retries_what_failed(
    committed: Database, tmp_path: Path
) -> None:
    message_id = send(committed, 1, smtp_settings(tmp_path, free_port()))
    assert service.reload_message(committed, message_id).status == "retrying"
    with committed.unit_of_work() as session:
        # The backoff has run out.
        for item in session.scalars(select(OutboxItem)):
            item.next_attempt_at = utcnow() - timedelta(seconds=1)
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    sender = Sender(committed, smtp_settings(tmp_path, controller.port), poll_seconds=0.05)
    sender.start()
    try:
        deadline = time.monotonic() + 10
        while service.reload_message(committed, message_id).status != "sent":
            assert time.monotonic() < deadline, "the sender never retried"
            time.sleep(0.05)
    finally:
        sender.stop()
        controller.stop()
    assert len(collector.envelopes) == 1


def test_serve_starts_a_sender_for_a_real_database_only(
    committed: Database, db: Database, tmp_path: Path
) -> None:
    with TestClient(create_app(Settings(home=tmp_path), db=committed)) as client:
        sender = client.app.state.outbox_sender  # type: ignore[attr-defined]
        assert isinstance(sender, Sender)
    # The tests' rolled-back connection cannot be shared with a thread.
    with TestClient(create_app(Settings(home=tmp_path), db=db)) as client:
        assert client.app.state.outbox_sender is None  # type: ignore[attr-defined]
