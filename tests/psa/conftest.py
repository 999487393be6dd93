from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from franchise.db import Database
from franchise.settings import Settings
from tests.psa import at_fake, cw_fake, halo_fake
from tests.psa.support import ensure_tables

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "psa"


@pytest.fixture
def integrated(db: Database) -> bool:
    """The PSA and mail tables exist, made by the migrations."""
    return ensure_tables(db)


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path)


@pytest.fixture
def halo() -> Iterator[halo_fake.FakeHalo]:
    yield from halo_fake.serve()


@pytest.fixture
def cw() -> Iterator[cw_fake.FakeConnectWise]:
    yield from cw_fake.serve()


@pytest.fixture
def at() -> Iterator[at_fake.FakeAutotask]:
    yield from at_fake.serve()
