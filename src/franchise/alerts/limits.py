"""What one webhook and one integration may send: alerts per body, alerts per minute.

A sender with a valid token could otherwise hold the server: one 10,000-alert body is work
for the processing of a whole storm, and a loop of webhooks fills the inbox faster than it
drains. Both refusals say what the limit is and, for the rate, when to try again.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from franchise.errors import FranchiseError


class TooManyAlerts(FranchiseError):
    code = "too_many_alerts"
    status = 413


class RateLimited(FranchiseError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def check_alert_count(count: int, limit: int) -> None:
    if limit and count > limit:
        raise TooManyAlerts(
            f"this webhook carries {count} alerts; at most {limit} are taken per body "
            "(FRANCHISE_ALERTS_MAX_PER_BODY): send them in smaller batches"
        )


class RateLimiter:
    """A token bucket per integration: `per_minute` alerts a minute, refilled continuously,
    holding at most a minute's worth, so a burst up to that size is taken at once.

    In memory and per process: a restart forgives, which is the right side to err on for a
    limit whose purpose is to keep one sender from holding the server."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # id -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, integration_id: int, alerts: int) -> None:
        """Count `alerts` against the integration, or raise RateLimited (nothing counted)."""
        if not self.per_minute:
            return
        rate = self.per_minute / 60.0
        cost = max(alerts, 1)  # an empty body is still a request to answer
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(integration_id, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * rate)
            if cost > tokens:
                self._buckets[integration_id] = (tokens, now)
                wait = math.ceil((min(cost, self.per_minute) - tokens) / rate)
                raise RateLimited(
                    f"this integration has sent more than {self.per_minute} alerts a minute "
                    f"(FRANCHISE_ALERTS_RATE_PER_MINUTE); retry in {max(wait, 1)} s",
                    retry_after=max(wait, 1),
                )
            self._buckets[integration_id] = (tokens - cost, now)
