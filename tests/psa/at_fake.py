"""An Autotask stand-in on loopback: the zone lookup, picklists, queries with nextPageUrl
paging, PATCH of user-defined fields and ticket notes, answering with the documented shapes
(fixtures under tests/fixtures/psa/autotask/ name their source); every request is kept."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from tests.psa import recording
from tests.psa.recording import Answer, RecordingServer, Seen, header, load_fixture

USERNAME, CODE, SECRET = "api@msp.example", "INTEGRATION-CODE-1", "at-s3cret"
ZONE = "/zone2/atservicesrest"


def fixture(name: str) -> Any:
    return load_fixture("autotask", name)


class FakeAutotask(RecordingServer):
    def __init__(self) -> None:
        super().__init__()
        data = fixture("tickets.json")
        self.tickets = {t["id"]: t for t in copy.deepcopy(data["tickets"])}
        self.companies = {c["id"]: c for c in data["companies"]}
        self.fields = fixture("fields.json")["fields"]
        self.notes: list[tuple[int, dict[str, Any]]] = []
        self.patches: list[dict[str, Any]] = []
        self.page_size = 500
        self.url = self.root + "/atservicesrest"  # where the zone is looked up
        self.api = self.root + ZONE + "/v1.0"

    def error_body(self) -> Any:
        return {"errors": ["scripted failure"]}

    def answer(self, seen: Seen) -> Answer:
        if seen.path == "/atservicesrest/v1.0/zoneInformation":
            if seen.query.get("user") != USERNAME:
                return 404, {}, {"errors": ["Zone information could not be determined"]}
            return 200, {}, {**fixture("zone.json"), "url": self.root + ZONE + "/"}
        if (
            header(seen, "ApiIntegrationCode"),
            header(seen, "UserName"),
            header(seen, "Secret"),
        ) != (
            CODE,
            USERNAME,
            SECRET,
        ):
            return 401, {}, {"errors": ["Unauthorized"]}
        path = seen.path.removeprefix(ZONE + "/v1.0")
        if path == "/Tickets/entityInformation/fields":
            return 200, {}, {"fields": self.fields}
        if path == "/Tickets/query" and seen.method == "POST":
            return self._query(seen.json()["filter"], 0)
        if path == "/Tickets/query" and seen.method == "GET":  # nextPageUrl
            state = json.loads(seen.query["search"])
            return self._query(state["filter"], int(seen.query["offset"]))
        if path == "/Companies/query" and seen.method == "POST":
            (flt,) = seen.json()["filter"]
            assert (flt["op"], flt["field"]) == ("in", "id")
            return 200, {}, {"items": [self.companies[i] for i in flt["value"]], "pageDetails": {}}
        if path == "/Tickets" and seen.method == "PATCH":
            body = seen.json()
            ticket = self.tickets.get(body.get("id"))
            if ticket is None:
                return 404, {}, {"errors": ["no such ticket"]}
            self.patches.append(body)
            for udf in body.get("userDefinedFields", []):
                for mine in ticket["userDefinedFields"]:
                    if mine["name"] == udf["name"]:
                        mine["value"] = udf["value"]
            if "status" in body:
                ticket["status"] = body["status"]
            self.touch(ticket)
            return 200, {}, {"itemId": ticket["id"]}
        match = re.fullmatch(r"/Tickets/(\d+)/Notes", path)
        if match and seen.method == "POST" and int(match.group(1)) in self.tickets:
            note = seen.json()
            self.notes.append((int(match.group(1)), note))
            self.touch(self.tickets[int(match.group(1))])
            return 200, {}, {"itemId": len(self.notes)}
        return 404, {}, {"errors": [f"no route {seen.method} {seen.path}"]}

    def _query(self, filters: list[dict[str, Any]], offset: int) -> Answer:
        found = sorted(self.tickets.values(), key=lambda t: t["id"])
        for flt in filters:
            field, value = flt["field"], flt["value"]
            if flt["op"] == "gt":
                found = [t for t in found if t[field] > value]
            elif flt["op"] == "lte":
                found = [t for t in found if t[field] <= value]
            elif flt["op"] == "eq":
                found = [t for t in found if t[field] == value]
            else:
                return 400, {}, {"errors": [f"unknown op {flt['op']}"]}
        page = found[offset : offset + self.page_size]
        more = offset + self.page_size < len(found)
        query = urlencode(
            {"search": json.dumps({"filter": filters}), "offset": offset + self.page_size}
        )
        next_url = f"{self.api}/Tickets/query?{query}" if more else None
        details = {
            "count": len(page),
            "requestCount": self.page_size,
            "prevPageUrl": None,
            "nextPageUrl": next_url,
        }
        return 200, {}, {"items": copy.deepcopy(page), "pageDetails": details}

    def touch(self, ticket: dict[str, Any]) -> None:
        ticket["lastActivityDate"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def udf(self, ticket_id: int, name: str) -> str | None:
        for field in self.tickets[ticket_id]["userDefinedFields"]:
            if field["name"] == name:
                return field["value"]  # type: ignore[no-any-return]
        return None

    def calls(self, method: str, suffix: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and r.path.endswith(suffix)]


def serve() -> Iterator[FakeAutotask]:
    yield from recording.serve(FakeAutotask())
