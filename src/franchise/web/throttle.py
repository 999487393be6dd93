"""Slow down password guessing: a per-e-mail failure counter with a lock-out window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from franchise.db import utcnow
from franchise.ops.models import LoginFailure


class LoginThrottle:
    """Failures are rows in the database, so every `franchise serve` process behind the
    proxy counts the same tries: 5 per 15 minutes per address, however many servers."""

    def __init__(
        self,
        *,
        max_failures: int = 5,
        window_seconds: float = 900,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.max_failures = max_failures
        self.window = timedelta(seconds=window_seconds)
        self._clock = clock

    def _recent(self, session: Session, email: str, now: datetime) -> list[datetime]:
        return list(
            session.scalars(
                select(LoginFailure.failed_at)
                .where(LoginFailure.email == email, LoginFailure.failed_at > now - self.window)
                .order_by(LoginFailure.failed_at.desc())
                .limit(self.max_failures)
            )
        )

    def wait_seconds(self, session: Session, email: str) -> int:
        """Seconds until this address may try again; 0 when it may try now."""
        now = self._clock()
        recent = self._recent(session, email, now)
        if len(recent) < self.max_failures:
            return 0
        # The oldest of the last `max_failures` tries leaving the window frees one more try.
        return max(1, int((recent[-1] + self.window - now).total_seconds()))

    def failed(self, session: Session, email: str) -> None:
        now = self._clock()
        # Old rows are swept here rather than by a job: failures are rare and this is cheap.
        session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - self.window))
        session.add(LoginFailure(email=email, failed_at=now))
        session.flush()

    def succeeded(self, session: Session, email: str) -> None:
        session.execute(delete(LoginFailure).where(LoginFailure.email == email))
