from __future__ import annotations

from pathlib import Path

import pytest

from franchise.db import Database
from tests.psa.support import ensure_tables

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "psa"


@pytest.fixture
def integrated(db: Database) -> bool:
    """The PSA and mail tables exist, made by the migrations."""
    return ensure_tables(db)


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
