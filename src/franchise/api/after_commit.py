"""A response built after the request's unit of work has committed.

The request's session (`DbSession`, scope="function") commits when the handler returns,
then the deliveries it queued run (outbox); only then does FastAPI send the response. A
handler that must report how a delivery went returns `AfterCommit(build)`: `build` runs
at that point, reads the outcome in a fresh unit of work and makes the real response.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import Receive, Scope, Send


class AfterCommit(Response):
    def __init__(self, build: Callable[[], Response]) -> None:
        super().__init__()
        self._build = build

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Sync: `build` reads the database, which must not block the event loop.
        response = await run_in_threadpool(self._build)
        if response.background is None:
            response.background = self.background
        await response(scope, receive, send)
