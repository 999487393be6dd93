"""Deliveries go after the commit, are retried with backoff, and leave their outcome on the
ticket; on both databases, against a real SMTP server and a real HTTP receiver on loopback."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.ask.service import ask_owner
from franchise.cli.context import CliContext
from franchise.db import Database, utcnow
from franchise.flows.resolving import resolve
from franchise.messages import service
from franchise.messages.models import TicketMessage
from franchise.orgsettings.service import set_setting
from franchise.outbox.models import OutboxItem
from franchise.outbox.service import LEASE, backoff, deliver_due
from franchise.settings import Settings
from franchise.tickets.models import Ticket, TicketEvent
from franchise.tickets.service import create_ticket, get_ticket, history
from tests.ask.fixtures import Team
from tests.ask.test_ask_service import TUESDAY
from tests.messages.conftest import SENDER, Collector, SmtpServer, free_port
from tests.notify.receiver import Receiver
from tests.support import CliInvoker, deliver_outbox

MakeTicket = Callable[..., Ticket]


class Boom(Exception):
    """Stands for whatever fails after the service call and before the commit."""


def smtp_settings(tmp_path: Path, port: int) -> Settings:
    return Settings(
        home=tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none", smtp_from=SENDER
    )


def message_events(session: Session, ticket: Ticket) -> list[tuple[str, str]]:
    return [(e.kind, e.note or "") for e in history(session, ticket) if "message" in e.kind]


def only_item(session: Session) -> OutboxItem:
    [item] = session.scalars(select(OutboxItem)).all()
    return item


def test_backoff_doubles_from_thirty_seconds_up_to_an_hour() -> None:
    # 30 s * 2**(n-1): 30, 60, 120, 240, 480, 960, 1920 s; the 8th would be 3840 s > 3600.
    assert [backoff(n).total_seconds() for n in range(1, 9)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
    ]


def test_a_rolled_back_send_e_mails_nobody_and_leaves_no_row(
    db: Database, tech: Staff, make_ticket: MakeTicket, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    ticket_id = make_ticket().id

    def send_then_fail() -> None:
        with db.unit_of_work() as session:
            service.send_message(
                session,
                get_ticket(session, ticket_id),
                template="update",
                by=session.merge(tech),
                settings=smtp_server.settings(tmp_path),
            )
            raise Boom

    with pytest.raises(Boom):
        send_then_fail()
    assert smtp_server.collector.envelopes == []
    with db.unit_of_work() as session:
        assert session.scalars(select(OutboxItem)).all() == []
        assert session.scalars(select(TicketMessage)).all() == []
    # Nothing waits for a retry either.
    assert deliver_due(db, smtp_server.settings(tmp_path), now=utcnow() + timedelta(days=1)) == {}


def test_a_committed_send_is_delivered_by_the_unit_of_work_after_the_commit(
    db: Database, tech: Staff, make_ticket: MakeTicket, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    ticket_id = make_ticket().id
    with db.unit_of_work() as session:
        message = service.send_message(
            session,
            get_ticket(session, ticket_id),
            template="update",
            by=session.merge(tech),
            settings=smtp_server.settings(tmp_path),
        )
        # Inside the transaction: recorded and queued, not sent.
        assert message.status == "queued"
        assert smtp_server.collector.envelopes == []
    assert len(smtp_server.collector.envelopes) == 1
    assert service.reload_message(db, message.id).status == "sent"
    with db.unit_of_work() as session:
        item = only_item(session)
        assert (item.state, item.attempts, item.kind) == ("delivered", 1, "email")
        assert item.payload["message_id"] == message.id


def test_a_rolled_back_ask_notifies_nobody(
    session: Session, db: Database, team: Team, owner_inbox: Receiver, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path, notify_urls=owner_inbox.url("/owner"))
    ticket_id = create_ticket(session, title="Client wants a discount").id
    session.flush()

    def ask_then_fail() -> None:
        with db.unit_of_work() as session:
            result = ask_owner(
                session,
                ticket=get_ticket(session, ticket_id),
                by=session.merge(team.ana),
                reason="other",
                question="Can we give them 10% off?",
                now=TUESDAY,
                settings=settings,
            )
            assert result.outcome == "interruption"
            raise Boom

    with pytest.raises(Boom):
        ask_then_fail()
    assert owner_inbox.posts == []
    with db.unit_of_work() as session:
        assert session.scalars(select(OutboxItem)).all() == []


def test_smtp_down_is_retried_after_the_backoff_and_the_history_shows_both(
    session: Session, db: Database, tech: Staff, make_ticket: MakeTicket, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens there yet
    settings = smtp_settings(tmp_path, port)
    ticket = make_ticket()
    message = service.send_message(session, ticket, template="update", by=tech, settings=settings)
    [first] = deliver_outbox(session, db, settings).values()
    assert (first.state, first.attempts) == ("retrying", 1)
    assert message.status == "retrying"
    item = only_item(session)
    failed_at = item.next_attempt_at - timedelta(seconds=30)  # type: ignore[operator]

    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        # One second before the backoff ends nothing is sent; at its end it goes.
        early = deliver_outbox(session, db, settings, now=failed_at + timedelta(seconds=29))
        assert early == {}
        assert collector.envelopes == []
        [second] = deliver_outbox(
            session, db, settings, now=failed_at + timedelta(seconds=30)
        ).values()
    finally:
        controller.stop()
    assert (second.state, second.attempts) == ("delivered", 2)
    assert [e.rcpt_tos for e in collector.envelopes] == [["dana@harbour.example"]]
    assert (message.status, message.error) == ("sent", None)
    assert message.sent_at == failed_at + timedelta(seconds=30)
    [(kind1, note1), (kind2, note2)] = message_events(session, ticket)
    assert kind1 == "message_retrying"
    assert note1.startswith(
        f"e-mail to dana@harbour.example failed: could not deliver through SMTP server "
        f"127.0.0.1:{port}"
    )
    assert "retrying at" in note1
    assert (kind2, note2) == (
        "message",
        f"e-mailed dana@harbour.example: {message.subject}\n\n{message.body}",
    )
    assert (item.state, item.attempts, item.last_error) == ("delivered", 2, None)


def test_a_permanent_refusal_is_given_up_at_once(
    session: Session,
    db: Database,
    tech: Staff,
    make_ticket: MakeTicket,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    smtp_server.collector.refuse.add("dana@harbour.example")
    settings = smtp_server.settings(tmp_path)
    ticket = make_ticket()
    message = service.send_message(session, ticket, template="update", by=tech, settings=settings)
    [outcome] = deliver_outbox(session, db, settings).values()
    assert (outcome.state, outcome.attempts) == ("failed", 1)
    assert message.status == "failed"
    # A 550 will not change its mind: nothing is tried again, a day later either.
    assert deliver_outbox(session, db, settings, now=utcnow() + timedelta(days=1)) == {}
    [(kind, note)] = message_events(session, ticket)
    assert kind == "message_failed"
    assert "550 5.1.1 mailbox unavailable" in note
    assert "retrying" not in note


def test_after_eight_failed_attempts_the_outbox_gives_up(
    session: Session, db: Database, tech: Staff, make_ticket: MakeTicket, tmp_path: Path
) -> None:
    settings = smtp_settings(tmp_path, free_port())
    ticket = make_ticket()
    message = service.send_message(session, ticket, template="update", by=tech, settings=settings)
    states = []
    when = utcnow()
    for _ in range(8):
        [outcome] = deliver_outbox(session, db, settings, now=when).values()
        states.append(outcome.state)
        when += timedelta(hours=1)  # past every backoff
    assert states == ["retrying"] * 7 + ["failed"]
    assert message.status == "failed"
    assert deliver_outbox(session, db, settings, now=when + timedelta(days=1)) == {}
    kinds = [k for k, _ in message_events(session, ticket)]
    assert kinds == ["message_retrying"] * 7 + ["message_failed"]
    assert message_events(session, ticket)[-1][1].endswith(
        f"(gave up after 8 attempts): {message.subject}"
    )


def test_an_item_claimed_by_another_sender_waits_until_its_lease_runs_out(
    session: Session,
    db: Database,
    tech: Staff,
    make_ticket: MakeTicket,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    settings = smtp_server.settings(tmp_path)
    service.send_message(session, make_ticket(), template="update", by=tech, settings=settings)
    now = utcnow()
    item = only_item(session)
    # A sender that claimed it and died mid-way.
    item.claimed_by, item.claimed_until = "gone:1:dead", now + LEASE
    session.flush()
    assert deliver_outbox(session, db, settings, now=now + LEASE - timedelta(seconds=1)) == {}
    assert smtp_server.collector.envelopes == []
    [outcome] = deliver_outbox(
        session, db, settings, now=now + LEASE + timedelta(seconds=1)
    ).values()
    assert outcome.state == "delivered"
    assert len(smtp_server.collector.envelopes) == 1


def test_a_delivery_that_went_is_never_sent_again(
    session: Session,
    db: Database,
    tech: Staff,
    make_ticket: MakeTicket,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    settings = smtp_server.settings(tmp_path)
    service.send_message(session, make_ticket(), template="update", by=tech, settings=settings)
    deliver_outbox(session, db, settings)
    assert deliver_outbox(session, db, settings, now=utcnow() + timedelta(days=1)) == {}
    assert len(smtp_server.collector.envelopes) == 1


def test_a_refused_auto_send_in_a_savepoint_leaves_nothing_in_the_outbox(
    session: Session, db: Database, tech: Staff, tmp_path: Path
) -> None:
    # The ticket has no client: the resolved message is refused inside its savepoint.
    set_setting(session, "auto_send_resolved_message", "on")
    ticket = create_ticket(session, title="No client here")
    _done, sent = resolve(session, ticket, by=tech, settings=smtp_settings(tmp_path, 25))
    assert sent.status == "skipped"
    assert session.scalars(select(OutboxItem)).all() == []


def test_a_failed_owner_notification_is_retried_and_the_contact_says_so(
    session: Session,
    db: Database,
    team: Team,
    owner_inbox: Receiver,
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path, notify_urls=owner_inbox.url("/owner"))
    ticket = create_ticket(session, title="Contract question")
    owner_inbox.status = 503
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.ana,
        reason="other",
        question="Renew?",
        now=TUESDAY,
        settings=settings,
    )
    [first] = deliver_outbox(session, db, settings).values()
    assert first.state == "retrying"
    owner_inbox.status = 200
    later = utcnow() + timedelta(seconds=31)
    [second] = deliver_outbox(session, db, settings, now=later).values()
    assert (second.state, second.attempts) == ("delivered", 2)
    assert len(owner_inbox.posts) == 2  # the refused one and the accepted one
    kinds = session.scalars(
        select(TicketEvent.kind)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind.startswith("owner_notif"))
        .order_by(TicketEvent.id)
    ).all()
    assert kinds == ["owner_notify_failed", "owner_notified"]
    assert result.settle(db).to_dict()["notification"]["sent"] is True


def test_the_worker_sends_what_is_due(
    session: Session,
    db: Database,
    tech: Staff,
    make_ticket: MakeTicket,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    settings = smtp_server.settings(tmp_path)
    ticket = make_ticket()
    message = service.send_message(session, ticket, template="update", by=tech, settings=settings)
    item = only_item(session)
    # As if the request's own attempt had failed a while ago.
    item.attempts, item.last_error = 1, "could not deliver"
    item.next_attempt_at = utcnow() - timedelta(seconds=1)
    session.flush()
    cli = CliInvoker(CliContext(_settings=settings, db=db, migrated=True))
    result = cli("worker", "--once", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["outbox"] == {"delivered": 1}
    assert len(smtp_server.collector.envelopes) == 1
    session.expire_all()
    assert (message.status, item.state, item.attempts) == ("sent", "delivered", 2)
