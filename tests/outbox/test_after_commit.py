"""`after_commit`: the hook the outbox rides on. Runs once committed, never on a rollback."""

from __future__ import annotations

import pytest

from franchise.db import Database, after_commit
from franchise.tickets.models import Ticket
from franchise.tickets.service import create_ticket


def test_a_callback_runs_after_the_commit_and_sees_the_saved_work(db: Database) -> None:
    seen: list[str] = []

    def look(database: Database) -> None:
        assert database is db
        with database.unit_of_work() as session:
            ticket = session.get(Ticket, ticket_id)
            seen.append(ticket.title if ticket else "missing")

    with db.unit_of_work() as session:
        ticket_id = create_ticket(session, title="Saved first").id
        after_commit(session, look)
        assert seen == []  # not inside the transaction
    assert seen == ["Saved first"]


def test_a_rolled_back_unit_of_work_runs_no_callback(db: Database) -> None:
    ran: list[int] = []

    def work() -> None:
        with db.unit_of_work() as session:
            after_commit(session, lambda _db: ran.append(1))
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError, match="abort"):
        work()
    assert ran == []


def test_a_failing_callback_neither_undoes_the_work_nor_stops_the_next(db: Database) -> None:
    ran: list[str] = []

    def fail(_db: Database) -> None:
        ran.append("fail")
        raise OSError("network down")

    with db.unit_of_work() as session:
        ticket_id = create_ticket(session, title="Kept").id
        after_commit(session, fail)
        after_commit(session, lambda _db: ran.append("next"))
    assert ran == ["fail", "next"]
    with db.unit_of_work() as session:
        assert session.get(Ticket, ticket_id) is not None
