"""Processing the inbox: `franchise worker`, and the in-process drainer of `franchise serve`.

Exactly once: an item is processed in one transaction that first re-reads the item (locked
on PostgreSQL; SQLite's BEGIN IMMEDIATE locks the database) and goes on only if it is still
`processing` and claimed by this worker; the ticket changes and the `done` mark commit
together. A worker that dies mid-way commits nothing; its claim expires after the lease
and another worker takes the item again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError
from sqlalchemy.orm import Session

from franchise.alerts.bulk import Pace, apply_parts, read_parts
from franchise.alerts.bulk_write import finish_parts
from franchise.alerts.inbox import claim, parse_body, renew
from franchise.alerts.models import InboxItem, Integration
from franchise.alerts.processing import Batch, Lookups, apply_alert, read_ahead
from franchise.db import Database, background_work, is_unstorable, utcnow
from franchise.errors import UNSTORABLE, FranchiseError
from franchise.integrations.normalized import NormalizedAlert
from franchise.ops.heartbeat import SERVE_AUTO, SERVE_ON, RollCall
from franchise.suggest.service import warm_up

log = logging.getLogger(__name__)

DEFAULT_LEASE = 60.0
# A claim: at most this many items, and of them only as many as hold ALERTS_PER_CLAIM
# alerts (at least one item): twenty bodies of 50 alerts, or a thousand one-alert webhooks.
# What a drain reads once per claim (`Lookups`) is then read once per thousand alerts.
DEFAULT_BATCH = 1000
ALERTS_PER_CLAIM = 1000
# Attempts (claims) before an item that keeps failing is parked as `failed`.
MAX_ATTEMPTS = 5
# Conflicts between parallel workers (same new dedup key, deadlock, busy SQLite) are retried.
CONFLICT_RETRIES = 3
CONFLICTS = (IntegrityError, OperationalError)
# Seconds one processing transaction may hold the write lock: webhooks (SQLite has one
# writer) and the API wait at most about this long for the drainer. An item whose alerts
# take longer is applied in parts, one transaction each.
TRANSACTION_BUDGET = 0.1
# The budget while requests come (see IntakeGate.budget): a request waits at most about
# this long for the drainer's transaction, so other requests' p99 stays under 100 ms.
BUSY_BUDGET = 0.05
# Alerts whose groups are read in one query (see `read_ahead`).
READ_AHEAD = 50
# Test hook only: the path of a file to write the item id into before sleeping inside the
# processing transaction, so a test can kill the worker there. Unset in real deployments.
TEST_HOLD_ENV = "FRANCHISE_TEST_ALERT_HOLD"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Report:
    claimed: int = 0
    done: int = 0
    failed: int = 0
    skipped: int = 0
    alerts: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "claimed": self.claimed,
            "done": self.done,
            "failed": self.failed,
            "skipped": self.skipped,
            "alerts": self.alerts,
            "outcomes": dict(sorted(self.outcomes.items())),
        }

    def add(self, other: Report) -> None:
        self.claimed += other.claimed
        self.done += other.done
        self.failed += other.failed
        self.skipped += other.skipped
        self.alerts += other.alerts
        for key, count in other.outcomes.items():
            self.outcomes[key] = self.outcomes.get(key, 0) + count


def process_pending(
    db: Database,
    *,
    worker: str | None = None,
    batch: int = DEFAULT_BATCH,
    alerts: int | None = ALERTS_PER_CLAIM,
    lease_seconds: float = DEFAULT_LEASE,
    stop: threading.Event | None = None,
    gate: IntakeGate | None = None,
    budget: float = TRANSACTION_BUDGET,
    bulk: bool = True,
) -> Report:
    """Claim and process batches until the inbox has nothing claimable (or `stop` is set).
    `bulk=False` applies every item one by one (`processing.apply_alert`), as the bulk path
    does when it cannot take an item: what tests compare it with."""
    worker = worker or worker_name()
    pace = Pace() if bulk else None
    report = Report()
    parsed: dict[int, list[tuple[int, NormalizedAlert]]] = {}
    while stop is None or not stop.is_set():
        # The suggest index of the current library is built here, outside any transaction:
        # built inside one, it would hold SQLite's write lock for seconds after a runbook
        # change. When the library has not changed this is one short query.
        warm_up(db)
        if gate is not None:
            gate.wait_quiet()
        with db.unit_of_work() as session:
            ids = claim(
                session, worker=worker, batch=batch, alerts=alerts, lease_seconds=lease_seconds
            )
            bodies = list(
                session.execute(
                    select(InboxItem.id, InboxItem.kind, InboxItem.body).where(
                        InboxItem.id.in_(ids)
                    )
                )
            )
        if not ids:
            break
        # Parsed here, outside any transaction: a body of thousands of alerts takes a while
        # to parse, and on SQLite a transaction holds the one write lock throughout. A body
        # that does not parse is parsed again in its item's transaction, which records why.
        for item_id, kind, body in bodies:
            try:
                parsed[item_id] = _ordered(kind, body)
            except Exception:  # noqa: S112 - recorded by the item's own processing
                continue
        report.claimed += len(ids)
        waiting = ids
        lookups = Lookups()  # read again for each claim
        leased = time.monotonic()
        while waiting:
            if stop is not None and stop.is_set():
                break  # the rest of the claim expires and is taken again
            if gate is not None:
                gate.wait_quiet()
            if time.monotonic() - leased > lease_seconds / 2:
                with db.unit_of_work() as session:
                    renew(session, waiting, worker=worker)
                leased = time.monotonic()
            now_budget = gate.budget(budget) if gate is not None else budget
            waiting = _transaction(db, waiting, worker, report, now_budget, parsed, lookups, pace)
        parsed.clear()
    return report


def _transaction(
    db: Database,
    ids: list[int],
    worker: str,
    report: Report,
    budget: float,
    parsed: dict[int, list[tuple[int, NormalizedAlert]]],
    lookups: Lookups,
    pace: Pace | None = None,
) -> list[int]:
    """Process claimed items in one transaction for about `budget` seconds, each under its
    own savepoint; returns the ids left for the next transaction (an item whose alerts
    were not all applied comes first again).

    An item that fails rolls back to its savepoint only and is given back (or parked); an
    item that meets a parallel worker's conflict is retried alone after the commit. Should
    the transaction itself fail, each item it held is processed alone.

    With a `pace`, the items are first taken by the bulk path (`bulk.py`) for as far as it
    goes; the one-by-one path takes the rest, and all of them should the bulk path fail."""
    deadline = time.monotonic() + budget
    part = Report()
    conflicts: list[int] = []
    taken: list[int] = []
    left: list[int] = []
    try:
        with db.unit_of_work() as session:
            shared = Batch(deadline=deadline, parsed=parsed, lookups=lookups)
            first = 0
            if pace is not None:
                first, left = _bulk(session, ids, worker, shared, part, pace, budget)
                taken.extend(ids[:first])
            for position in range(first, len(ids) if not left else first):
                item_id = ids[position]
                if taken and time.monotonic() >= deadline:
                    left = ids[position:]
                    break
                taken.append(item_id)
                mark = shared.mark()
                savepoint = session.begin_nested()
                try:
                    result = process_item(session, item_id, worker, shared)
                    savepoint.commit()
                except CONFLICTS as exc:
                    savepoint.rollback()
                    shared.undo(mark)
                    log.info("inbox item %s: conflict, retrying alone: %s", item_id, exc)
                    conflicts.append(item_id)
                    continue
                except Exception as exc:  # a bug or bad data must not stop the other items
                    savepoint.rollback()
                    shared.undo(mark)
                    log.exception("inbox item %s failed", item_id)
                    if _give_back(session, item_id, worker, f"{type(exc).__name__}: {exc}"):
                        part.failed += 1
                    continue
                _count(part, result)
                if result is not None and not result.finished:
                    left = [item_id, *ids[position + 1 :]]
                    break
            shared.finish(session)
    except Exception as exc:
        log.info("alert batch of %d items failed, processing them one by one: %s", len(taken), exc)
        for item_id in taken:
            _process_with_retries(db, item_id, worker, report)
        return left
    report.add(part)
    for item_id in conflicts:
        _process_with_retries(db, item_id, worker, report)
    return left


def _bulk(
    session: Session,
    ids: list[int],
    worker: str,
    batch: Batch,
    report: Report,
    pace: Pace,
    budget: float,
) -> tuple[int, list[int]]:
    """Apply as many of the items (from the first) as the bulk path takes, up to the alerts
    the budget allows; returns how many it took and the ids left for the next transaction
    (none when the one-by-one path should go on with the rest in this one)."""
    started = time.perf_counter()
    cap = pace.cap(budget)
    try:
        with session.begin_nested():
            parts, full = read_parts(session, ids, worker, batch, cap)
            ours = [p for p in parts if p is not None]
            applied = apply_parts(session, ours, batch)
            if applied < len(ours):
                # The one-by-one path goes on from the first part not applied (every item
                # before it was applied or is no longer ours).
                full = False
                parts = parts[: parts.index(ours[applied])]
                ours = ours[:applied]
            finish_parts(session, ours, batch, _failures)
            if ours:
                _test_hold(ours[0].id)
    except Exception as exc:  # the one-by-one path says which item or alert it was
        log.info("bulk apply of %d items failed, applying them one by one: %s", len(ids), exc)
        return 0, []
    alerts = 0
    for part in parts:
        if part is None:
            report.skipped += 1
            continue
        _count(report, Applied(part.outcomes, part.finished))
        alerts += part.end - part.start
    pace.measured(alerts, time.perf_counter() - started, cap)
    taken = len(parts)
    if parts and parts[-1] is not None and not parts[-1].finished:
        return taken, ids[taken - 1 :]
    return taken, ids[taken:] if full else []


def _count(report: Report, result: Applied | None) -> None:
    if result is None:
        report.skipped += 1
        return
    if result.finished:
        report.done += 1
    report.alerts += len(result.outcomes)
    for outcome in result.outcomes:
        report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1


def _process_with_retries(db: Database, item_id: int, worker: str, report: Report) -> None:
    """One item in transactions of its own (a large one in several), after a conflict or
    when its batch could not commit."""
    for attempt in range(1, CONFLICT_RETRIES + 1):
        try:
            while True:
                with db.unit_of_work() as session:
                    shared = Batch(deadline=time.monotonic() + TRANSACTION_BUDGET)
                    result = process_item(session, item_id, worker, shared)
                    shared.finish(session)
                _count(report, result)
                if result is None or result.finished:
                    return
        except CONFLICTS as exc:
            if attempt < CONFLICT_RETRIES:
                log.info("inbox item %s: conflict, retrying: %s", item_id, exc)
                time.sleep(0.05 * attempt)
                continue
            _release(db, item_id, worker, f"database error: {exc}", report)
        except Exception as exc:  # a bug or bad data must not stop the other items
            log.exception("inbox item %s failed", item_id)
            _release(db, item_id, worker, f"{type(exc).__name__}: {exc}", report)
            return


def _ordered(kind: str, body: str) -> list[tuple[int, NormalizedAlert]]:
    """The body's alerts with their positions, sorted by key so parallel workers lock alert
    groups in the same order (no deadlocks); the sort is stable, so events for one key keep
    their payload order."""
    return sorted(enumerate(parse_body(kind, body)), key=lambda pair: pair[1].dedup_key)


@dataclass(frozen=True)
class Applied:
    outcomes: list[str]
    finished: bool  # False: the deadline came first; the rest goes in the next transaction


def process_item(
    session: Session, item_id: int, worker: str, batch: Batch | None = None
) -> Applied | None:
    """Apply a claimed item (from where an earlier transaction left off) until it is done
    or the batch's deadline passes; None when it is no longer ours (done, or re-claimed).

    The alerts are applied under one savepoint; if one of them cannot be stored (text the
    database refuses, a value out of range), they are applied again one savepoint each, so
    that alert alone fails and the item records which and why."""
    own = batch is None
    shared = batch if batch is not None else Batch()
    item = session.scalar(select(InboxItem).where(InboxItem.id == item_id).with_for_update())
    if item is None or item.state != "processing" or item.claimed_by != worker:
        return None
    integration = shared.integration(session, item.integration_id)
    ordered = shared.parsed.get(item.id)
    if ordered is None:
        ordered = _ordered(item.kind, item.body)
    start = item.progress
    outcomes: list[str] = []
    errors: list[dict[str, Any]] = []
    mark = shared.mark()
    try:
        with session.begin_nested():
            end = _apply(session, integration, item, ordered, start, shared, outcomes)
    except CONFLICTS:
        raise
    except Exception as exc:
        if not _bad_alert(exc):
            raise
        shared.undo(mark)
        outcomes, errors, end = _apply_one_by_one(
            session, integration, item, ordered, start, shared
        )
    _test_hold(item.id)
    if errors:
        item.alert_errors = [*(item.alert_errors or []), *errors]
    item.progress = end
    finished = end >= len(ordered)
    if not finished:
        shared.parsed[item.id] = ordered
    else:
        shared.parsed.pop(item.id, None)
    if finished:
        item.state = "done"
        item.processed_at = utcnow()
        failed = item.alert_errors or []
        item.error = _failures(failed, len(ordered)) if failed else None
    else:
        item.claimed_at = utcnow()  # the claim's lease runs from the last part done
    if own:
        shared.finish(session)
    return Applied(outcomes, finished)


def _apply(
    session: Session,
    integration: Integration,
    item: InboxItem,
    ordered: list[tuple[int, NormalizedAlert]],
    start: int,
    batch: Batch,
    outcomes: list[str],
) -> int:
    """Apply alerts from `start` until the end or the deadline (one at least); the end."""
    position = start
    window = start
    while position < len(ordered):
        if position > start and batch.past_deadline():
            break
        if position >= window:
            # The groups of the next alerts in one query rather than one each; a window, not
            # the rest of the item: a part of a large body reaches only what its time allows.
            window = min(position + READ_AHEAD, len(ordered))
            read_ahead(
                session,
                integration,
                [
                    alert.group_key
                    if integration.group_by == "group" and alert.group_key
                    else alert.dedup_key
                    for _, alert in ordered[position:window]
                ],
                batch,
            )
        alert = ordered[position][1]
        outcomes.append(
            apply_alert(session, integration, alert, received_at=item.received_at, batch=batch)
        )
        position += 1
    return position


def _apply_one_by_one(
    session: Session,
    integration: Integration,
    item: InboxItem,
    ordered: list[tuple[int, NormalizedAlert]],
    start: int,
    batch: Batch,
) -> tuple[list[str], list[dict[str, Any]], int]:
    outcomes: list[str] = []
    errors: list[dict[str, Any]] = []
    position = start
    while position < len(ordered):
        if position > start and batch.past_deadline():
            break
        index, alert = ordered[position]
        position += 1
        mark = batch.mark()
        try:
            with session.begin_nested():
                outcome = apply_alert(
                    session, integration, alert, received_at=item.received_at, batch=batch
                )
        except CONFLICTS:
            raise
        except Exception as exc:
            if not _bad_alert(exc):
                raise
            batch.undo(mark)
            errors.append({"alert": index, "dedup_key": alert.dedup_key, "error": _why(exc)})
            outcomes.append("failed")
            continue
        outcomes.append(outcome)
    return outcomes, errors, position


def _bad_alert(exc: BaseException) -> bool:
    """An alert's own data refused (the driver cannot encode a lone surrogate, PostgreSQL
    refuses NUL, a value is out of range, a rule refuses it), not a bug or an outage."""
    return is_unstorable(exc) or isinstance(exc, UnicodeError | FranchiseError)


def _why(exc: BaseException) -> str:
    if isinstance(exc, FranchiseError):
        return exc.message
    cause = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    return f"{UNSTORABLE} ({type(cause).__name__}: {str(cause).splitlines()[0][:200]})"


def _failures(errors: list[dict[str, Any]], total: int) -> str:
    first = errors[0]
    return (
        f"{len(errors)} of {total} alerts failed and the others were applied; "
        f"alerts[{first['alert']}]: {first['error']}"
    )[:2000]


def _give_back(session: Session, item_id: int, worker: str, error: str) -> bool:
    """In the batch's transaction: an item that failed goes back for another attempt, or is
    parked as failed after the last. False when it is no longer ours."""
    item = session.scalar(select(InboxItem).where(InboxItem.id == item_id).with_for_update())
    if item is None or item.state != "processing" or item.claimed_by != worker:
        return False
    item.error = error[:2000]
    item.claimed_by = None
    item.claimed_at = None
    item.state = "failed" if item.attempts >= MAX_ATTEMPTS else "pending"
    return True


def _release(db: Database, item_id: int, worker: str, error: str, report: Report) -> None:
    """Give a failing item back for another attempt, or park it as failed after the last."""
    with db.unit_of_work() as session:
        given_back = _give_back(session, item_id, worker, error)
    if given_back:
        report.failed += 1


def _test_hold(item_id: int) -> None:
    path = os.environ.get(TEST_HOLD_ENV)
    if path:
        # Written aside and renamed: the test never reads the file half written.
        aside = Path(f"{path}.part")
        aside.write_text(str(item_id))
        aside.replace(path)
        time.sleep(600)


class IntakeGate:
    """Webhook writes, and every request's unit of work (`Database.turns`), go before the
    drainer's. SQLite has one writer at a time and its busy
    handler is not fair, so a drainer starting transaction after transaction would make each
    webhook's INSERT wait behind a whole item; on any database the drainer's work takes the
    CPU the webhooks need. Before each transaction the drainer waits until no webhook in this
    process has written for `settle` seconds, but never longer than `max_wait`, so a storm is
    taken in at full speed and processed as it eases.

    `settle` is short (10 ms): in a storm webhooks commit every few milliseconds, so the
    drainer still waits, while a lone request now and then costs it only that much. And
    while requests come, its transactions are shorter (`budget`).

    The drainer polls (every `settle` seconds at most) rather than being woken by each write:
    in a storm the intake commits hundreds of times a second, and waking another thread for
    each would cost the webhooks more than the check saves."""

    def __init__(
        self,
        settle: float = 0.01,
        max_wait: float = 1.0,
        busy_window: float = 1.0,
        busy_budget: float = BUSY_BUDGET,
    ) -> None:
        self.settle = settle
        self.max_wait = max_wait
        self.busy_window = busy_window
        self.busy_budget = busy_budget
        self._writing = 0
        self._last_write = 0.0
        self._lock = threading.Lock()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._lock:
            self._writing += 1
        try:
            yield
        finally:
            with self._lock:
                self._writing -= 1
                self._last_write = time.monotonic()

    @property
    def writers(self) -> int:
        """Units of work running (or waiting for the lock) now."""
        with self._lock:
            return self._writing

    def budget(self, idle: float) -> float:
        """Seconds the drainer's next transaction may take: `idle` when no request has
        written for `busy_window` seconds (nobody would wait for it), else the shorter
        `busy_budget`, so a request that comes while a large body drains waits less."""
        with self._lock:
            busy = self._writing or time.monotonic() - self._last_write < self.busy_window
        return min(idle, self.busy_budget) if busy else idle

    def wait_quiet(self) -> None:
        deadline = time.monotonic() + self.max_wait
        while True:
            now = time.monotonic()
            with self._lock:
                quiet_for = now - self._last_write if not self._writing else 0.0
            if quiet_for >= self.settle or now >= deadline:
                return
            time.sleep(min(self.settle - quiet_for, deadline - now))


class Drainer:
    """The in-process worker of `franchise serve`: a thread that drains the inbox when a
    webhook wakes it, and every few seconds anyway (to pick up expired claims)."""

    def __init__(
        self,
        db: Database,
        *,
        poll_seconds: float = 5.0,
        batch: int = DEFAULT_BATCH,
        lease_seconds: float = DEFAULT_LEASE,
        gate: IntakeGate | None = None,
        mode: str = "on",
    ) -> None:
        self.db = db
        self.gate = gate
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.worker = worker_name()
        self.roll_call = RollCall(db, self.worker, kind=SERVE_AUTO if mode == "auto" else SERVE_ON)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="franchise-alerts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        self.roll_call.leave()

    def _run(self) -> None:
        # This thread's units of work are the ones that wait for the others (IntakeGate).
        with background_work():
            self._drain()

    def _drain(self) -> None:
        try:
            # At start, not when the first alert arrives: the first webhooks of a storm
            # should not share the process with a cold build of the suggest index.
            warm_up(self.db)
        except Exception:  # the database may not be up yet; process_pending tries again
            log.exception("alert drainer: preparing the suggest index failed")
        while not self._stop.is_set():
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
            if not self.roll_call.should_drain():
                continue  # dedicated workers process the inbox (FRANCHISE_INPROCESS_WORKER=auto)
            try:
                report = process_pending(
                    self.db,
                    worker=self.worker,
                    batch=self.batch,
                    lease_seconds=self.lease_seconds,
                    stop=self._stop,
                    gate=self.gate,
                )
                self.roll_call.processed += report.done
            except Exception:  # the database may be restarting; try again on the next tick
                log.exception(
                    "alert drainer: processing failed; retrying in %ss", self.poll_seconds
                )
