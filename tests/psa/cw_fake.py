"""A ConnectWise PSA stand-in on loopback, answering with the documented shapes (fixtures
under tests/fixtures/psa/connectwise/ name their source) and keeping every request."""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.psa.halo_fake import Failure, Seen

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "psa" / "connectwise"
PREFIX = "/v4_6_release/apis/3.0"
COMPANY, PUBLIC_KEY, PRIVATE_KEY = "acme", "pUbL1c", "pr1v4te-key"
CLIENT_ID = "3f2b7c1e-0000-4000-8000-00000000c11d"
SIGNING_KEY = "cw-signing-key-123"
_CONDITION = re.compile(
    r"^(?:lastUpdated > \[([^\]]+)\] and )?lastUpdated <= \[([^\]]+)\](?: and id > (\d+))?$"
)


def header(seen: Seen, name: str) -> str | None:
    return next((v for k, v in seen.headers.items() if k.lower() == name.lower()), None)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class FakeConnectWise:
    def __init__(self) -> None:
        self.tickets = {t["id"]: t for t in copy.deepcopy(fixture("tickets.json")["tickets"])}
        self.notes: list[tuple[int, dict[str, Any]]] = []
        self.patches: list[tuple[int, list[dict[str, Any]]]] = []
        self.requests: list[Seen] = []
        self.failures: list[Failure] = []
        self.lock = threading.Lock()
        fake = self
        pair = f"{COMPANY}+{PUBLIC_KEY}:{PRIVATE_KEY}"
        self.expected_auth = "Basic " + base64.b64encode(pair.encode()).decode()

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

            def do_PATCH(self) -> None:
                self._handle()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.root = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = self.root + PREFIX

    def answer(self, seen: Seen) -> tuple[int, dict[str, str], Any]:
        for failure in list(self.failures):
            if seen.path.startswith(PREFIX + failure.path):
                self.failures.remove(failure)
                return failure.status, failure.headers, {"code": "ScriptedFailure"}
        if seen.path == "/callback-key":
            return 200, {}, {"signing_key": SIGNING_KEY}
        if (
            header(seen, "Authorization") != self.expected_auth
            or header(seen, "clientId") != CLIENT_ID
        ):
            return 401, {}, {"code": "Unauthorized", "message": "Invalid credentials"}
        path = seen.path.removeprefix(PREFIX)
        if path == "/service/tickets" and seen.method == "GET":
            return self._list(seen.query)
        match = re.fullmatch(r"/service/tickets/(\d+)(/notes)?", path)
        if match is None or int(match.group(1)) not in self.tickets:
            return 404, {}, {"code": "NotFound"}
        ticket = self.tickets[int(match.group(1))]
        if match.group(2) and seen.method == "POST":
            note = seen.json()
            self.notes.append((ticket["id"], note))
            self.touch(ticket)
            return 201, {}, {"id": len(self.notes), "ticketId": ticket["id"], **note}
        if not match.group(2) and seen.method == "PATCH":
            patch = seen.json()
            self.patches.append((ticket["id"], patch))
            for op in patch:
                if op["op"] != "replace":
                    return 400, {}, {"code": "InvalidObject"}
                if op["path"] == "customFields":
                    by_id = {f["id"]: f for f in ticket["customFields"]}
                    for given in op["value"]:
                        by_id.setdefault(given["id"], {"id": given["id"]})["value"] = given["value"]
                    ticket["customFields"] = list(by_id.values())
                elif op["path"] == "status":
                    ticket["status"] = {"id": 99, "name": op["value"]["name"]}
            self.touch(ticket)
            return 200, {}, ticket
        return 405, {}, {"code": "MethodNotAllowed"}

    def _list(self, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        if "conditions" not in query:
            found = sorted(self.tickets.values(), key=lambda t: t["id"])
        else:
            match = _CONDITION.match(query["conditions"])
            if match is None:
                return 400, {}, {"code": "InvalidCondition", "message": query["conditions"]}
            since, until, after = match.groups()
            found = [
                t
                for t in sorted(self.tickets.values(), key=lambda t: t["id"])
                if (since is None or t["_info"]["lastUpdated"] > since)
                and t["_info"]["lastUpdated"] <= until
                and t["id"] > int(after or 0)
            ]
        size, page = int(query.get("pageSize", 25)), int(query.get("page", 1))
        return 200, {}, copy.deepcopy(found[(page - 1) * size : page * size])

    def touch(self, ticket: dict[str, Any]) -> None:
        ticket["_info"]["lastUpdated"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def field_value(self, ticket_id: int, field_id: int) -> str | None:
        for custom in self.tickets[ticket_id]["customFields"]:
            if custom["id"] == field_id and "value" in custom:
                return str(custom["value"])
        return None

    def calls(self, method: str, path: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and r.path == PREFIX + path]


def serve() -> Iterator[FakeConnectWise]:
    fake = FakeConnectWise()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
        thread.join(5)
