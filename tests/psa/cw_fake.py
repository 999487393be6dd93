"""A ConnectWise PSA stand-in on loopback, answering with the documented shapes (fixtures
under tests/fixtures/psa/connectwise/ name their source) and keeping every request."""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from tests.psa import recording
from tests.psa.recording import Answer, RecordingServer, Seen, header, load_fixture

PREFIX = "/v4_6_release/apis/3.0"
COMPANY, PUBLIC_KEY, PRIVATE_KEY = "acme", "pUbL1c", "pr1v4te-key"
CLIENT_ID = "3f2b7c1e-0000-4000-8000-00000000c11d"
SIGNING_KEY = "cw-signing-key-123"
_CONDITION = re.compile(
    r"^(?:lastUpdated > \[([^\]]+)\] and )?lastUpdated <= \[([^\]]+)\](?: and id > (\d+))?$"
)


def fixture(name: str) -> Any:
    return load_fixture("connectwise", name)


class FakeConnectWise(RecordingServer):
    failure_prefix = PREFIX

    def __init__(self) -> None:
        super().__init__()
        self.tickets = {t["id"]: t for t in copy.deepcopy(fixture("tickets.json")["tickets"])}
        self.notes: list[tuple[int, dict[str, Any]]] = []
        self.patches: list[tuple[int, list[dict[str, Any]]]] = []
        pair = f"{COMPANY}+{PUBLIC_KEY}:{PRIVATE_KEY}"
        self.expected_auth = "Basic " + base64.b64encode(pair.encode()).decode()
        self.url = self.root + PREFIX
        # Callback signing keys by the path of their key_url.
        self.signing_keys = {"/callback-key": SIGNING_KEY}

    def error_body(self) -> Any:
        return {"code": "ScriptedFailure"}

    def answer(self, seen: Seen) -> Answer:
        if seen.path.startswith("/callback-key"):
            key = self.signing_keys.get(seen.path)
            if key is None:
                return 404, {}, {"code": "NotFound"}
            return 200, {}, {"signing_key": key}
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

    def _list(self, query: dict[str, str]) -> Answer:
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

    def key_fetches(self) -> int:
        return sum(1 for r in self.requests if r.path.startswith("/callback-key"))

    def calls(self, method: str, path: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and r.path == PREFIX + path]


def serve() -> Iterator[FakeConnectWise]:
    yield from recording.serve(FakeConnectWise())
