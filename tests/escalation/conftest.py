from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.bootstrap import initialise
from franchise.escalation.service import load_starter


@pytest.fixture
def ready(session: Session) -> Session:
    """Starter runbooks and the starter escalation map, stored."""
    initialise(session)
    load_starter(session)
    return session


@pytest.fixture
def tech(session: Session) -> Staff:
    return add_staff(session, name="Tess", email="tess@example.com", role="technician", level="L1")


@pytest.fixture
def owner(session: Session) -> Staff:
    return add_staff(session, name="Olive", email="olive@example.com", role="owner", level="owner")
