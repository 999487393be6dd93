"""Server-side sessions and the sign-in throttle, without a browser."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.service import get_staff
from franchise.accounts.session_models import WebSession
from franchise.accounts.sessions import (
    LIFETIME,
    MAX_AGE,
    end_session,
    find_session,
    list_sessions,
    revoke_sessions,
    start_session,
)
from franchise.db import utcnow
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


def test_a_busy_session_still_ends_at_the_absolute_limit(
    session: Session, make_staff: Callable[..., Member]
) -> None:
    staff = get_staff(session, make_staff().id)
    start = utcnow()
    _row, plain = start_session(session, staff, now=start)
    # Used every 11 hours, the idle expiry alone would keep it alive for ever.
    moment = start
    for _ in range(15):  # 165 hours in
        moment += timedelta(hours=11)
        assert find_session(session, plain, now=moment) is not None
    assert timedelta(days=7) == MAX_AGE
    assert find_session(session, plain, now=start + MAX_AGE - timedelta(seconds=1)) is not None
    assert find_session(session, plain, now=start + MAX_AGE) is None
    shorter = timedelta(hours=24)
    assert find_session(session, plain, now=start + timedelta(hours=24), max_age=shorter) is None


def test_sign_out_everywhere_ends_every_session_of_that_person_only(
    session: Session, make_staff: Callable[..., Member]
) -> None:
    tess = get_staff(session, make_staff().id)
    sam = get_staff(session, make_staff("Sam Senior").id)
    laptop = start_session(session, tess)[1]
    phone = start_session(session, tess)[1]
    other = start_session(session, sam)[1]
    assert len(list_sessions(session, tess.id)) == 2
    assert revoke_sessions(session, tess.id) == 2
    assert find_session(session, laptop) is None
    assert find_session(session, phone) is None
    assert find_session(session, other) is not None
