"""The background sender: retries what a request's own attempt could not send, sends the
PSA webhook events and, on SQLite, runs the PSA sync (`franchise worker` runs it elsewhere).

`franchise serve` runs one `Sender` thread per process; `franchise worker` calls `send_due`
between inbox batches. Several at once are safe: a claim is exclusive (SKIP LOCKED on
PostgreSQL, the write lock on SQLite) and expires if its sender dies.
"""

from __future__ import annotations

import logging
import threading

from franchise.db import Database
from franchise.outbox.service import deliver_due
from franchise.psa.connectors.sync import sync_if_due
from franchise.settings import Settings

log = logging.getLogger(__name__)


def send_due(db: Database, settings: Settings) -> dict[str, int]:
    """One pass over everything due; counts by outcome ("delivered", "retrying" ...)."""
    counts: dict[str, int] = {}
    for outcome in deliver_due(db, settings).values():
        counts[outcome.state] = counts.get(outcome.state, 0) + 1
    if settings.psa_webhook_url and settings.psa_webhook_secret:
        from franchise.psa.webhook import deliver_outbox

        report = deliver_outbox(db, settings)
        for state, n in (("psa_delivered", report.delivered), ("psa_failed", report.failed)):
            if n:
                counts[state] = counts.get(state, 0) + n
    return counts


class Sender:
    def __init__(self, db: Database, settings: Settings, *, poll_seconds: float = 15.0) -> None:
        self.db = db
        self.settings = settings
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="franchise-outbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                if self.db.dialect == "sqlite":
                    # The embedded default has no worker: the server pulls from the PSA.
                    # On PostgreSQL `franchise worker` does (several servers would race).
                    sync_if_due(self.db, self.settings)
                # Pass after pass while a backlog lasts; then wait for the next tick.
                while send_due(self.db, self.settings) and not self._stop.is_set():
                    pass
            except Exception:  # the database may be restarting; try again on the next tick
                log.exception("outbox sender: delivery failed; retrying in %ss", self.poll_seconds)
