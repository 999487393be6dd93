"""The roll call of inbox processors: who is draining the alert inbox right now.

`franchise worker` and the in-process drainer of `franchise serve` each keep a row fresh
while they run. With FRANCHISE_INPROCESS_WORKER=auto the drainer stands aside while a
dedicated worker is alive and takes over when the last one has been silent for ALIVE_FOR.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from franchise.db import Database, utcnow
from franchise.ops.models import WorkerHeartbeat

log = logging.getLogger(__name__)

# Written at most this often by each process; read as alive for ALIVE_FOR after the last.
BEAT_EVERY = timedelta(seconds=5)
ALIVE_FOR = timedelta(seconds=30)
WORKER = "worker"
SERVE_ON = "serve-on"
SERVE_AUTO = "serve-auto"


def beat(
    session: Session, name: str, *, kind: str, processed: int = 0, now: datetime | None = None
) -> None:
    """Mark `name` alive now; `processed` is its running total of inbox items done."""
    now = now or utcnow()
    changed = session.execute(
        update(WorkerHeartbeat)
        .where(WorkerHeartbeat.name == name)
        .values(seen_at=now, processed=processed, kind=kind)
    ).rowcount  # type: ignore[attr-defined]
    if not changed:
        session.add(
            WorkerHeartbeat(name=name, kind=kind, started_at=now, seen_at=now, processed=processed)
        )
    # Rows of processes that died without signing off are swept by whoever beats next.
    session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.seen_at < now - 10 * ALIVE_FOR))
    session.flush()


def sign_off(session: Session, name: str) -> None:
    session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.name == name))


def alive(session: Session, *, kind: str, now: datetime | None = None) -> int:
    """How many processes of `kind` were seen within ALIVE_FOR."""
    since = (now or utcnow()) - ALIVE_FOR
    count = session.scalar(
        select(func.count())
        .select_from(WorkerHeartbeat)
        .where(WorkerHeartbeat.kind == kind, WorkerHeartbeat.seen_at >= since)
    )
    return int(count or 0)


class RollCall:
    """One process's place in the roll call: beats at most every BEAT_EVERY, and (for the
    in-process drainer in auto mode) says whether to drain or to leave it to the workers."""

    def __init__(
        self,
        db: Database,
        name: str,
        *,
        kind: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self._clock = clock
        self.name = name
        self.kind = kind
        self.processed = 0
        self._next_beat = 0.0
        self._standing_aside = False

    def should_drain(self) -> bool:
        """Beat if due; False while this is an auto drainer and a dedicated worker lives."""
        clock = self._clock()
        if clock < self._next_beat:
            return not self._standing_aside
        self._next_beat = clock + BEAT_EVERY.total_seconds()
        try:
            with self.db.unit_of_work() as session:
                workers = alive(session, kind=WORKER) if self.kind == SERVE_AUTO else 0
                if workers:
                    sign_off(session, self.name)
                else:
                    beat(session, self.name, kind=self.kind, processed=self.processed)
        except Exception:  # the database may be restarting; drain as if alone meanwhile
            log.warning("worker roll call failed; draining meanwhile", exc_info=True)
            workers = 0
        if bool(workers) != self._standing_aside:
            log.info(
                "in-process worker %s: %d franchise worker(s) alive",
                "stands aside" if workers else "takes over",
                workers,
            )
        self._standing_aside = bool(workers)
        return not self._standing_aside

    def leave(self) -> None:
        try:
            with self.db.unit_of_work() as session:
                sign_off(session, self.name)
        except Exception:  # a stale row is swept by the next process that beats
            log.warning("worker roll call: signing off failed", exc_info=True)


def warn_if_both_drain(db: Database, mode: str) -> None:
    """At `franchise serve` start: say when the in-process worker will run beside
    dedicated workers (mode on), or will stand aside for them (auto)."""
    try:
        with db.unit_of_work() as session:
            workers = alive(session, kind=WORKER)
    except Exception:  # an old schema or a database still starting: nothing to compare
        return
    if not workers:
        return
    if mode == "on":
        log.warning(
            "FRANCHISE_INPROCESS_WORKER=on and %d franchise worker(s) are running: both "
            "process the alert inbox; set FRANCHISE_INPROCESS_WORKER=auto or off",
            workers,
        )
    else:
        log.info("%d franchise worker(s) alive: the in-process worker stands aside", workers)


def serve_drainers_on(db: Database) -> int:
    """In-process workers running with FRANCHISE_INPROCESS_WORKER=on (they never stand aside)."""
    try:
        with db.unit_of_work() as session:
            return alive(session, kind=SERVE_ON)
    except Exception:  # nothing to warn about if the roll call cannot be read
        return 0
