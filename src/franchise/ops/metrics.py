"""Prometheus metrics: request latency kept per process, the rest read from the database.

The text format is simple enough to write here (https://prometheus.io/docs/instrumenting/
exposition_formats/): gauges and counters read from the database give the same answer
from every server process; the latency histogram is this process's own, so Prometheus
should scrape each server directly, not through the proxy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Seconds; the usual Prometheus client defaults, which suit a web app's requests.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class _Series:
    counts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: int = 0
    seconds: float = 0.0


class LatencyHistogram:
    """Request durations by method, route template and status class (2xx, 4xx...)."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, str], _Series] = {}
        self._lock = threading.Lock()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, f"{status // 100}xx")
        with self._lock:
            series = self._series.setdefault(key, _Series())
            series.total += 1
            series.seconds += seconds
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    series.counts[i] += 1

    def render(self) -> list[str]:
        name = "franchise_http_request_duration_seconds"
        lines = [
            f"# HELP {name} Time to answer HTTP requests, by route, in this server process.",
            f"# TYPE {name} histogram",
        ]
        with self._lock:
            items = sorted(self._series.items())
            snapshot = [(k, list(s.counts), s.total, s.seconds) for k, s in items]
        for (method, route, status), counts, total, seconds in snapshot:
            labels = f'method="{method}",route="{escape(route)}",status="{status}"'
            for bound, count in zip(BUCKETS, counts, strict=True):
                lines.append(f'{name}_bucket{{{labels},le="{bound}"}} {count}')
            lines.append(f'{name}_bucket{{{labels},le="+Inf"}} {total}')
            lines.append(f"{name}_sum{{{labels}}} {seconds:.6f}")
            lines.append(f"{name}_count{{{labels}}} {total}")
        return lines


class LatencyMiddleware:
    """Times every HTTP request; labelled by the route's template (/tickets/{id}), never the
    raw path, so the number of series stays bounded whatever clients send."""

    def __init__(self, app: ASGIApp, histogram: LatencyHistogram) -> None:
        self.app = app
        self.histogram = histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            self.histogram.observe(
                scope.get("method", "GET"),
                route_template(scope),
                status,
                time.perf_counter() - started,
            )


def route_template(scope: Scope) -> str:
    """The matched route's template with the prefix its router was included under
    (/api/v1 + /hooks/{kind}/{token}); "unmatched" for a path no route knows."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    regex = getattr(route, "path_regex", None)
    if not template or regex is None:
        return "unmatched"
    path: str = scope.get("path", "")
    # The route knows only its own part of the path: find where that part starts.
    for start, char in enumerate(path):
        if char == "/" and regex.match(path[start:]):
            return path[:start] + str(template)
    return str(template)


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass(frozen=True)
class Sample:
    name: str
    kind: str  # gauge | counter
    help: str
    values: list[tuple[dict[str, str], float]]


def render_samples(samples: Iterable[Sample]) -> list[str]:
    lines: list[str] = []
    for sample in samples:
        lines.append(f"# HELP {sample.name} {sample.help}")
        lines.append(f"# TYPE {sample.name} {sample.kind}")
        for labels, value in sample.values:
            text = ",".join(f'{k}="{escape(v)}"' for k, v in sorted(labels.items()))
            lines.append(
                f"{sample.name}{{{text}}} {_number(value)}"
                if text
                else f"{sample.name} {_number(value)}"
            )
    return lines


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6f}"
