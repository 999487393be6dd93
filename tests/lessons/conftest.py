from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.db import Database
from franchise.runbooks.models import Runbook
from tests.lessons.helpers import Invoker, starter


@pytest.fixture
def runbooks(session: Session) -> dict[str, Runbook]:
    return starter(session)


@pytest.fixture
def ana(session: Session) -> Staff:
    return add_staff(
        session, name="Ana Lee", email="ana@example.com", role="technician", level="L1"
    )


@pytest.fixture
def run(db: Database, tmp_path: Path) -> Invoker:
    return Invoker(db, tmp_path)
