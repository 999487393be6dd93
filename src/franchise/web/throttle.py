"""Slow down password guessing: a per-e-mail failure counter with a lock-out window."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class LoginThrottle:
    """In memory, per process: enough to make online guessing hopeless (5 tries per 15 minutes
    per address, times the number of app processes) without a table to clean up."""

    def __init__(
        self,
        *,
        max_failures: int = 5,
        window_seconds: float = 900,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._clock = clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        recent = [t for t in self._failures.pop(key, []) if now - t < self.window_seconds]
        if recent:
            self._failures[key] = recent
        return recent

    def wait_seconds(self, email: str) -> int:
        """Seconds until this address may try again; 0 when it may try now."""
        with self._lock:
            now = self._clock()
            recent = self._recent(email, now)
            if len(recent) < self.max_failures:
                return 0
            return max(1, int(recent[0] + self.window_seconds - now))

    def failed(self, email: str) -> None:
        with self._lock:
            now = self._clock()
            self._failures[email] = [*self._recent(email, now), now]

    def succeeded(self, email: str) -> None:
        with self._lock:
            self._failures.pop(email, None)
