from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.db import Database
from franchise.orgsettings.service import OrgConfig, set_setting
from tests.contacts.helpers import Invoker


@pytest.fixture
def berlin(session: Session) -> OrgConfig:
    """The organisation in Berlin, open mon-fri 08:00-18:00."""
    return set_setting(session, "timezone", "Europe/Berlin")


@pytest.fixture
def ana(session: Session) -> Staff:
    return add_staff(
        session, name="Ana Lee", email="ana@example.com", role="technician", level="L1"
    )


@pytest.fixture
def run(db: Database, tmp_path: Path) -> Invoker:
    return Invoker(db, tmp_path)
