"""Pure measurements over a ticket's history: how long it spent in a status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol


class StatusEvent(Protocol):
    at: datetime
    field: str | None
    new_value: str | None


def time_in_status(
    events: Sequence[StatusEvent], status: str, *, created_at: datetime, now: datetime
) -> timedelta:
    """Total time a ticket spent in `status` (it starts as `new` at `created_at`).

    Events must be in time order; a stretch still open counts up to `now`.
    """
    total = timedelta()
    current, since = "new", created_at
    for event in events:
        if event.field != "status" or event.new_value is None:
            continue
        if current == status:
            total += event.at - since
        current, since = event.new_value, event.at
    if current == status:
        total += now - since
    return total
