"""A HaloPSA stand-in on loopback, answering with the documented shapes (the fixtures under
tests/fixtures/psa/halopsa/ name their source) and keeping every request it was sent."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "psa" / "halopsa"
CLIENT_ID = "franchise-sync"
CLIENT_SECRET = "s3cret-from-halo"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


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


class FakeHalo:
    def __init__(self) -> None:
        self.tickets: dict[int, dict[str, Any]] = {
            t["id"]: t for t in copy.deepcopy(fixture("tickets.json")["tickets"])
        }
        self.statuses = fixture("status.json")["statuses"]
        self.actions: list[dict[str, Any]] = []
        self.requests: list[Seen] = []
        self.failures: list[Failure] = []
        self.tokens_issued = 0
        self.valid_tokens: set[str] = set()
        self.page_size_seen: list[int] = []
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
                    status, headers, body = fake.answer(seen)
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

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    # -- what Halo answers ------------------------------------------------------------------
    def answer(self, seen: Seen) -> tuple[int, dict[str, str], Any]:
        for failure in list(self.failures):
            if seen.path.startswith(failure.path):
                self.failures.remove(failure)
                body = {"error": "scripted failure"} if failure.body is None else failure.body
                return failure.status, failure.headers, body
        if seen.path == "/auth/token" and seen.method == "POST":
            form = seen.form()
            if (
                form.get("grant_type") != "client_credentials"
                or form.get("client_id") != CLIENT_ID
                or form.get("client_secret") != CLIENT_SECRET
                or form.get("scope") != "all"
            ):
                return 401, {}, {"error": "invalid_client"}
            self.tokens_issued += 1
            token = f"token-{self.tokens_issued}"
            self.valid_tokens.add(token)
            return 200, {}, {**fixture("token.json"), "access_token": token}
        auth = seen.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.valid_tokens:
            return 401, {}, {"error": "unauthorised"}
        if seen.path == "/api/Status" and seen.method == "GET":
            return 200, {}, self.statuses
        if seen.path == "/api/Tickets" and seen.method == "GET":
            return 200, {}, self._list(seen.query)
        if seen.path == "/api/Tickets" and seen.method == "POST":
            return self._upsert(seen.json())
        if seen.path == "/api/Actions" and seen.method == "POST":
            return self._actions(seen.json())
        return 404, {}, {"error": f"no route {seen.method} {seen.path}"}

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        size, page = int(query["page_size"]), int(query["page_no"])
        since = query.get("lastupdatefromdate")
        until = query.get("lastupdatetodate")
        found = [
            t
            for t in sorted(self.tickets.values(), key=lambda t: t["id"])
            if (since is None or t["last_update"] >= since)
            and (until is None or t["last_update"] < until)
        ]
        chunk = found[(page - 1) * size : page * size]
        return {
            "page_no": page,
            "page_size": size,
            "record_count": len(found),
            "tickets": copy.deepcopy(chunk),
        }

    def _upsert(self, body: list[dict[str, Any]]) -> tuple[int, dict[str, str], Any]:
        out = []
        for item in body:
            ticket = self.tickets.get(item.get("id"))
            if ticket is None:
                return 400, {}, {"error": f"ticket {item.get('id')} not found"}
            fields = {f["id"]: f for f in ticket.setdefault("customfields", [])}
            for custom in item.get("customfields", []):
                fields[custom["id"]] = {"id": custom["id"], "value": custom["value"]}
            ticket["customfields"] = list(fields.values())
            self.touch(ticket)
            out.append(ticket)
        return 201, {}, out[0] if len(out) == 1 else out

    def _actions(self, body: list[dict[str, Any]]) -> tuple[int, dict[str, str], Any]:
        for action in body:
            ticket = self.tickets.get(action.get("ticket_id"))
            if ticket is None:
                return 400, {}, {"error": "ticket not found"}
            self.actions.append(action)
            if "new_status" in action:
                ticket["status_id"] = action["new_status"]
            self.touch(ticket)
        return 201, {}, body[0]

    def touch(self, ticket: dict[str, Any]) -> None:
        ticket["last_update"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")

    # -- for the tests ----------------------------------------------------------------------
    def api_calls(self, method: str, path: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def field_value(self, ticket_id: int, field_id: int) -> str | None:
        for custom in self.tickets[ticket_id].get("customfields", []):
            if custom["id"] == field_id:
                return str(custom["value"])
        return None


def serve() -> Iterator[FakeHalo]:
    fake = FakeHalo()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
        thread.join(5)
