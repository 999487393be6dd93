from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.tickets.models import Ticket
from franchise.tickets.service import create_ticket

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def make_staff(session: Session) -> Callable[..., Staff]:
    def make(email: str, level: str = "L1", role: str = "technician") -> Staff:
        return add_staff(session, name=email.split("@")[0], email=email, role=role, level=level)

    return make


@pytest.fixture
def team(make_staff: Callable[..., Staff]) -> dict[str, Staff]:
    return {
        "l1": make_staff("tom@msp.example", "L1"),
        "l1b": make_staff("ana@msp.example", "L1"),
        "l2": make_staff("lee@msp.example", "L2"),
        "l2b": make_staff("kim@msp.example", "L2", "service_manager"),
        "owner": make_staff("boss@msp.example", "owner", "owner"),
    }


@pytest.fixture
def ticket(session: Session) -> Ticket:
    return create_ticket(session, title="VPN will not connect", category="vpn")
