"""Server-side sessions and the sign-in throttle, without a browser."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.service import get_staff
from franchise.db import utcnow
from franchise.web.models import WebSession
from franchise.web.sessions import LIFETIME, end_session, find_session, start_session
from franchise.web.throttle import LoginThrottle
from tests.web.conftest import Member


def test_the_cookie_value_is_not_what_is_stored(
    session: Session, make_staff: Callable[..., Member]
) -> None:
    staff = get_staff(session, make_staff().id)
    row, plain = start_session(session, staff)
    stored = session.scalars(select(WebSession.id_hash)).all()
    assert plain not in stored
    assert row.id_hash in stored
    found = find_session(session, plain)
    assert found is not None
    assert found.staff_id == staff.id
    assert find_session(session, row.id_hash) is None


def test_sessions_slide_while_used_and_expire_after_twelve_idle_hours(
    session: Session, make_staff: Callable[..., Member]
) -> None:

    staff = get_staff(session, make_staff().id)
    start = utcnow()
    row, plain = start_session(session, staff, now=start)
    assert timedelta(hours=12) == LIFETIME
    later = start + timedelta(hours=11)
    assert find_session(session, plain, now=later) is not None
    assert row.expires_at == later + LIFETIME
    assert find_session(session, plain, now=later + timedelta(hours=11, minutes=59)) is not None
    stale = row.expires_at + timedelta(seconds=1)
    assert find_session(session, plain, now=stale) is None


def test_ending_a_session_or_deactivating_staff_signs_them_out(
    session: Session, make_staff: Callable[..., Member]
) -> None:

    staff = get_staff(session, make_staff().id)
    _row, first = start_session(session, staff)
    _row, second = start_session(session, staff)
    end_session(session, first)
    assert find_session(session, first) is None
    assert find_session(session, second) is not None
    staff.active = False
    assert find_session(session, second) is None


def test_throttle_locks_an_address_after_five_failures_then_forgets(session: Session) -> None:

    start = utcnow()
    now = [start]
    throttle = LoginThrottle(max_failures=5, window_seconds=900, clock=lambda: now[0])
    for _ in range(4):
        throttle.failed(session, "a@example.com")
    assert throttle.wait_seconds(session, "a@example.com") == 0
    throttle.failed(session, "a@example.com")
    assert throttle.wait_seconds(session, "a@example.com") == 900
    assert throttle.wait_seconds(session, "b@example.com") == 0
    now[0] = start + timedelta(seconds=899)
    assert throttle.wait_seconds(session, "a@example.com") == 1
    now[0] = start + timedelta(seconds=901)
    assert throttle.wait_seconds(session, "a@example.com") == 0
    throttle.failed(session, "a@example.com")
    throttle.succeeded(session, "a@example.com")
    assert throttle.wait_seconds(session, "a@example.com") == 0


def test_throttle_counts_failures_made_through_another_server(session: Session) -> None:
    # Two throttles stand for two `franchise serve` processes; the rows are what they share.
    now = utcnow()
    first = LoginThrottle(max_failures=3, clock=lambda: now)
    second = LoginThrottle(max_failures=3, clock=lambda: now)
    first.failed(session, "c@example.com")
    second.failed(session, "c@example.com")
    assert first.wait_seconds(session, "c@example.com") == 0
    first.failed(session, "c@example.com")
    assert second.wait_seconds(session, "c@example.com") == 900
