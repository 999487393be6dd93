"""Group commit for webhook bodies: many waiting webhooks stored in one transaction.

A webhook is answered 202 only once its body is committed. Committed one request at a time,
concurrent webhooks queue for the database's write lock (SQLite has a single writer, and its
busy handler sleeps and retries) and each pays a whole transaction. Instead the request
handlers hand their parsed bodies to one writer thread and wait; the writer takes everything
that arrived while it was committing the previous batch, stores it in one transaction and
then answers each waiting request. A lone webhook is written at once, so nothing waits for a
batch to fill; under a storm the batches grow and the cost per webhook falls.

One body that the database refuses (on PostgreSQL, a NUL character) must not fail the
others: a batch that fails for any reason but an unavailable database is written again one
body per transaction, so each request gets its own answer.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from contextlib import nullcontext
from dataclasses import dataclass

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from franchise.alerts.inbox import Accepted, Received, store_many
from franchise.alerts.service import TokenCache
from franchise.alerts.worker import IntakeGate
from franchise.db import Database
from franchise.errors import Unavailable

log = logging.getLogger(__name__)

# Bodies stored per transaction at most: bounds the time one batch holds the write lock.
MAX_BATCH = 500
# Webhooks waiting to be written before new ones are told to retry (503 + Retry-After)
# rather than held in memory while the database is slow or down.
MAX_WAITING = 20_000


Outcome = Accepted | BaseException  # stored, or why not: what the waiting request gets


@dataclass
class _Waiting:
    kind: str
    token: str
    received: Received
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Accepted]


class IntakeWriter:
    """The one thread that stores webhook bodies; request handlers `await submit(...)`."""

    def __init__(
        self,
        db: Database,
        tokens: TokenCache,
        *,
        gate: IntakeGate | None = None,
        max_batch: int = MAX_BATCH,
        max_waiting: int = MAX_WAITING,
    ) -> None:
        self.db = db
        self.tokens = tokens
        self.gate = gate
        self.max_batch = max_batch
        self.max_waiting = max_waiting
        self.batches = 0  # transactions committed; read by tests and benchmarks
        self._queue: queue.Queue[_Waiting | None] = queue.Queue()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="franchise-intake", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is already waiting, then end the thread."""
        self._stopping = True
        self._queue.put(None)
        self._thread.join(timeout)

    async def submit(self, kind: str, token: str, received: Received) -> Accepted:
        """Store one received body; returns once it is committed, or raises what refused it."""
        if self._stopping or not self._thread.is_alive():
            raise Unavailable("the server is stopping; send the webhook again shortly")
        if self._queue.qsize() >= self.max_waiting:
            raise Unavailable("too many webhooks are waiting to be stored; retry shortly")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Accepted] = loop.create_future()
        self._queue.put(_Waiting(kind, token, received, loop, future))
        return await future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            batch = [first] if first is not None else []
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    batch.append(item)
            if batch:
                self._write(batch)
            if self._stopping and self._queue.empty():
                return

    def _write(self, batch: list[_Waiting]) -> None:
        outcomes: list[Outcome]
        try:
            outcomes = self._transaction(batch)
        except OperationalError as exc:
            # The database is down or locked: every request is told so (503, retry).
            outcomes = [exc] * len(batch)
        except Exception as exc:
            # One body the database refused; find which, giving each its own transaction.
            outcomes = [exc] if len(batch) == 1 else [self._one(item) for item in batch]
        # One wake-up per event loop for the whole batch, not one per request.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Waiting, Outcome]]] = {}
        for item, outcome in zip(batch, outcomes, strict=True):
            by_loop.setdefault(item.loop, []).append((item, outcome))
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, settled)
            except RuntimeError:  # that loop has closed: nobody waits there any more
                log.info("intake: %d answers for a closed event loop dropped", len(settled))

    def _one(self, item: _Waiting) -> Outcome:
        try:
            return self._transaction([item])[0]
        except Exception as exc:
            return exc

    def _transaction(self, batch: list[_Waiting]) -> list[Outcome]:
        gate = self.gate.writing() if self.gate is not None else nullcontext()
        with gate, self.db.unit_of_work() as session:
            found = [self._integration(session, item) for item in batch]
            storable = [
                (integration_id, item.received)
                for integration_id, item in zip(found, batch, strict=True)
                if isinstance(integration_id, int)
            ]
            stored = iter(store_many(session, storable))
        self.batches += 1
        # Each stored body's Accepted in the place of its integration id; refusals stay.
        return [next(stored) if isinstance(f, int) else f for f in found]

    def _integration(self, session: Session, item: _Waiting) -> int | BaseException:
        """The integration id of the webhook's token, or why the token is refused."""
        try:
            return self.tokens.integration_id(session, item.kind, item.token)
        except Exception as exc:  # a bad token refuses this webhook only
            return exc


def _settle(settled: list[tuple[_Waiting, Outcome]]) -> None:
    for item, outcome in settled:
        if item.future.done():  # the client went away and its request was cancelled
            continue
        if isinstance(outcome, BaseException):
            item.future.set_exception(outcome)
        else:
            item.future.set_result(outcome)
