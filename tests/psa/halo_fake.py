"""A HaloPSA stand-in on loopback, answering with the documented shapes (the fixtures under
tests/fixtures/psa/halopsa/ name their source) and keeping every request it was sent."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from tests.psa import recording
from tests.psa.recording import Answer, RecordingServer, Seen, load_fixture

CLIENT_ID = "franchise-sync"
CLIENT_SECRET = "s3cret-from-halo"


def fixture(name: str) -> Any:
    return load_fixture("halopsa", name)


class FakeHalo(RecordingServer):
    def __init__(self) -> None:
        super().__init__()
        self.tickets: dict[int, dict[str, Any]] = {
            t["id"]: t for t in copy.deepcopy(fixture("tickets.json")["tickets"])
        }
        self.statuses = fixture("status.json")["statuses"]
        self.actions: list[dict[str, Any]] = []
        self.tokens_issued = 0
        self.valid_tokens: set[str] = set()
        # Run after each ticket-list page is answered: a change made in Halo mid-pull.
        self.after_list: Callable[[FakeHalo], None] | None = None
        self.url = self.root

    # -- what Halo answers ------------------------------------------------------------------
    def answer(self, seen: Seen) -> Answer:
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
            listed = self._list(seen.query)
            if self.after_list is not None:
                self.after_list(self)
            return 200, {}, listed
        if seen.path == "/api/Tickets" and seen.method == "POST":
            return self._upsert(seen.json())
        if seen.path == "/api/Actions" and seen.method == "POST":
            return self._actions(seen.json())
        return 404, {}, {"error": f"no route {seen.method} {seen.path}"}

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        size, page = int(query["page_size"]), int(query["page_no"])
        since = query.get("lastupdatefromdate")
        until = query.get("lastupdatetodate")
        order = query.get("order") or "id"
        found = sorted(
            (
                t
                for t in self.tickets.values()
                if (since is None or t["last_update"] >= since)
                and (until is None or t["last_update"] < until)
            ),
            key=lambda t: (t[order], t["id"]),
            reverse=query.get("orderdesc") == "true",
        )
        chunk = found[(page - 1) * size : page * size]
        return {
            "page_no": page,
            "page_size": size,
            "record_count": len(found),
            "tickets": copy.deepcopy(chunk),
        }

    def _upsert(self, body: list[dict[str, Any]]) -> Answer:
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

    def _actions(self, body: list[dict[str, Any]]) -> Answer:
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
    yield from recording.serve(FakeHalo())
