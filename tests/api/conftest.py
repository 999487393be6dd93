from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from franchise.accounts.service import add_staff, create_token
from franchise.app import create_app
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.settings import Settings


@pytest.fixture
def app_client(db: Database, tmp_path: Path) -> Iterator[TestClient]:
    with db.unit_of_work() as session:
        initialise(session)
    app = create_app(Settings(home=tmp_path, max_body_bytes=64_000), db=db)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def tokens(db: Database) -> dict[str, str]:
    """Bearer headers for a technician (L1) and the owner."""
    out = {}
    with db.unit_of_work() as session:
        for role, level, email in (
            ("technician", "L1", "l1@example.com"),
            ("owner", "owner", "boss@example.com"),
        ):
            staff = add_staff(
                session, name=email.split("@")[0], email=email, role=role, level=level
            )
            out[level] = create_token(session, staff=staff, name="test")[1]
    return out


@pytest.fixture
def l1(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['L1']}"}


@pytest.fixture
def owner(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['owner']}"}
