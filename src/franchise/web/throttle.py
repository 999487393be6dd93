"""Slow down password guessing, per IP address and per account, with growing delays.

The counts live in the database (login_throttle), so every server process sees the same
numbers and a restart forgets nothing. Nothing is ever locked for good: after a few free
failures each further one adds a delay that doubles up to a cap. The account's cap is
short (a minute), so someone who knows only your address can slow you down but never lock
you out; the IP's cap is long, which is what stops one machine trying many accounts.
Counts are forgotten `window` after the last failure, and stale rows are swept on write.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from franchise.accounts.models import LoginThrottleEntry
from franchise.db import utcnow


@dataclass(frozen=True)
class Limit:
    free: int  # failures allowed before any delay
    cap_seconds: int  # the longest delay one more failure can cause
    first_seconds: int = 1  # the delay after the first failure past the free ones

    def delay_after(self, failures: int) -> int:
        """Seconds to wait after the n-th failure in a row: 1, 2, 4 ... up to the cap."""
        over = failures - self.free
        if over <= 0:
            return 0
        return min(self.cap_seconds, self.first_seconds * (1 << min(over - 1, 30)))


def throttle_key(scope: str, value: str) -> str:
    return hashlib.sha256(f"{scope}\0{value}".encode()).hexdigest()


class LoginThrottle:
    """The limits (plain values, so a test can shrink them); the counts are in the session."""

    def __init__(
        self,
        *,
        account: Limit = Limit(free=5, cap_seconds=60),
        ip: Limit = Limit(free=20, cap_seconds=900),
        window: timedelta = timedelta(hours=1),
    ) -> None:
        self.limits = {"account": account, "ip": ip}
        self.window = window

    def wait_seconds(
        self, session: Session, *, ip: str, account: str, now: datetime | None = None
    ) -> int:
        """Seconds until a sign-in from this IP for this account may be tried; 0 = now."""
        now = now or utcnow()
        keys = [throttle_key("ip", ip), throttle_key("account", account)]
        rows = session.scalars(
            select(LoginThrottleEntry).where(LoginThrottleEntry.key_hash.in_(keys))
        )
        waits = [
            int((row.blocked_until - now).total_seconds() + 0.999)
            for row in rows
            if row.blocked_until > now and now - row.last_failure_at < self.window
        ]
        return max(waits, default=0)

    def failed(
        self, session: Session, *, ip: str, account: str, now: datetime | None = None
    ) -> None:
        now = now or utcnow()
        session.execute(
            delete(LoginThrottleEntry).where(LoginThrottleEntry.last_failure_at < now - self.window)
        )
        for scope, value in (("ip", ip), ("account", account)):
            self._count(session, scope, throttle_key(scope, value), now)
        session.flush()

    def _count(self, session: Session, scope: str, key: str, now: datetime) -> None:
        # An upsert, so two processes failing at once for the same key cannot collide.
        insert = (
            postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        )
        statement = insert(LoginThrottleEntry).values(
            key_hash=key, scope=scope, failures=1, last_failure_at=now, blocked_until=now
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[LoginThrottleEntry.key_hash],
                set_={
                    "failures": LoginThrottleEntry.failures + 1,
                    "last_failure_at": now,
                },
            )
        )
        failures = session.scalar(
            select(LoginThrottleEntry.failures).where(LoginThrottleEntry.key_hash == key)
        )
        delay = self.limits[scope].delay_after(failures or 0)
        session.execute(
            update(LoginThrottleEntry)
            .where(LoginThrottleEntry.key_hash == key)
            .values(blocked_until=now + timedelta(seconds=delay))
        )

    def succeeded(self, session: Session, *, account: str) -> None:
        """The account's count starts again; the IP's is left to expire (one success from an
        address that tried fifty accounts proves little)."""
        session.execute(
            delete(LoginThrottleEntry).where(
                LoginThrottleEntry.key_hash == throttle_key("account", account)
            )
        )
