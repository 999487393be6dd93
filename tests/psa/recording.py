"""The loopback HTTP server the PSA stand-ins (halo_fake, cw_fake, at_fake) share: it keeps
every request it was sent and answers with what the stand-in's `answer` says, as JSON."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "psa"
Answer = tuple[int, dict[str, str], Any]


def load_fixture(vendor: str, name: str) -> Any:
    """A documented answer shape under tests/fixtures/psa/<vendor>/ (each names its source)."""
    return json.loads((FIXTURES / vendor / name).read_text(encoding="utf-8"))


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Failure:
    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # what to answer instead of the error body (an unexpected shape)


def header(seen: Seen, name: str) -> str | None:
    return next((v for k, v in seen.headers.items() if k.lower() == name.lower()), None)


class RecordingServer:
    """Keeps every request in `requests`; `answer` (under `lock`) says what to send back.
    `failures` are scripted answers, each used once, for the first request whose path
    starts with the failure's path (after `failure_prefix`)."""

    failure_prefix = ""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.failures: list[Failure] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(
                    self.command,
                    parts.path,
                    {k: v[0] for k, v in parse_qs(parts.query).items()},
                    dict(self.headers.items()),
                    self.rfile.read(length) if length else b"",
                )
                with fake.lock:
                    fake.requests.append(seen)
                    status, headers, body = fake.scripted(seen) or fake.answer(seen)
                data = json.dumps(body).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def do_PATCH(self) -> None:
                self._handle()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.root = f"http://127.0.0.1:{self.server.server_address[1]}"

    def scripted(self, seen: Seen) -> Answer | None:
        for failure in list(self.failures):
            if seen.path.startswith(self.failure_prefix + failure.path):
                self.failures.remove(failure)
                body = self.error_body() if failure.body is None else failure.body
                return failure.status, failure.headers, body
        return None

    def error_body(self) -> Any:
        return {"error": "scripted failure"}

    def answer(self, seen: Seen) -> Answer:
        raise NotImplementedError


Fake = TypeVar("Fake", bound=RecordingServer)


def serve(fake: Fake) -> Iterator[Fake]:
    """The stand-in answering on loopback for the length of a test."""
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
        thread.join(5)
