"""Fixtures shared by the ask and drill tests: the starter library, staff, tickets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.bootstrap import initialise
from franchise.policydocs.models import PolicyRevision
from franchise.runbooks.models import RunbookRevision
from franchise.settings import Settings
from franchise.tickets.models import Ticket
from franchise.tickets.service import create_ticket
from tests.notify.receiver import Receiver, receiver

LONG_AGO = datetime(2020, 1, 6, 9, 0, tzinfo=UTC)


@dataclass
class Team:
    ana: Staff  # L1 technician
    bo: Staff  # L2 technician
    olivia: Staff  # the owner


@pytest.fixture
def library(session: Session) -> None:
    """The starter library, loaded long ago: any revision after a drill is a new one."""
    initialise(session)
    session.execute(update(RunbookRevision).values(created_at=LONG_AGO))
    session.execute(update(PolicyRevision).values(created_at=LONG_AGO))
    session.expire_all()


@pytest.fixture
def team(session: Session, library: None) -> Team:
    return Team(
        ana=add_staff(
            session, name="Ana Lee", email="ana@example.com", role="technician", level="L1"
        ),
        bo=add_staff(
            session, name="Bo Stone", email="bo@example.com", role="technician", level="L2"
        ),
        olivia=add_staff(
            session, name="Olivia Owner", email="olivia@example.com", role="owner", level="owner"
        ),
    )


@pytest.fixture
def make_ticket(session: Session, library: None) -> Callable[..., Ticket]:
    def make(title: str = "Printer jam on floor 2", **fields: Any) -> Ticket:
        return create_ticket(session, title=title, **fields)

    return make


@pytest.fixture
def owner_inbox() -> Iterator[Receiver]:
    with receiver() as rx:
        yield rx


@pytest.fixture
def settings(owner_inbox: Receiver, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, notify_urls=owner_inbox.url("/owner"))
