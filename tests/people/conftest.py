from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from franchise.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, public_url="https://franchise.example")


@pytest.fixture
def people_session(session: Session, settings: Settings) -> Session:
    """The test's session, carrying the settings notifications are queued with."""
    session.info["franchise_settings"] = settings
    return session
