from __future__ import annotations

from pathlib import Path

import pytest

from franchise.db import Database
from tests.psa.support import ensure_tables

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "psa"


@pytest.fixture
def integrated(db: Database) -> bool:
    """Our tables exist (from the migration once merged); True when the migration made them."""
    return ensure_tables(db)


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
