"""Hudu and IT Glue stand-ins on loopback: they answer with the documented shapes
(tests/fixtures/kb, each naming its source) and keep every request for the tests to check.

Like the real services they refuse a request without the right API key (401), IT Glue one
that is not application/vnd.api+json (415), and a body of the wrong shape (422).
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kb"
API_KEY = "hudu-or-itg-key-0123456789"
JSON_API = "application/vnd.api+json"


def fixture(name: str) -> dict[str, Any]:
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    assert data["source"], f"{name} names no source"
    response: dict[str, Any] = data["response"]
    return copy.deepcopy(response)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Scripted:
    """An answer given once, instead of the normal one, to the first request matching."""

    method: str
    path: str  # a regular expression over the path
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None


@dataclass
class KbServer:
    kind: str
    port: int = 0
    requests: list[Seen] = field(default_factory=list)
    script: list[Scripted] = field(default_factory=list)
    next_id: int = 100
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sent(self, method: str | None = None) -> list[Seen]:
        return [r for r in self.requests if method is None or r.method == method]

    def answer(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any] | None]:
        with self.lock:
            body = json.loads(raw) if raw else None
            self.requests.append(Seen(method, path, headers, body))
            for i, s in enumerate(self.script):
                if s.method == method and re.fullmatch(s.path, path):
                    del self.script[i]
                    return s.status, s.headers, s.body
            if headers.get("x-api-key") != API_KEY:
                return 401, {}, {"error": "Invalid API key"}
            if self.kind == "hudu":
                return self._hudu(method, path, body)
            if headers.get("content-type") != JSON_API:
                return 415, {}, {"errors": [{"status": "415", "title": "Unsupported Media Type"}]}
            return self._itglue(method, path, body)

    def _new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def _hudu(self, method: str, path: str, body: Any) -> tuple[int, dict[str, str], Any]:
        if not (isinstance(body, dict) and isinstance(body.get("article"), dict)):
            return 422, {}, {"error": "article is missing"}
        article = body["article"]
        if not article.get("name") or not article.get("content"):
            return 422, {}, {"error": "name and content are required"}
        if method == "POST" and path == "/api/v1/articles":
            article_id = self._new_id()
        elif method == "PUT" and (m := re.fullmatch(r"/api/v1/articles/(\d+)", path)):
            article_id = int(m.group(1))
        else:
            return 404, {}, {"error": "Not found"}
        out = fixture("hudu_article.json")
        out["article"].update(
            id=article_id,
            name=article["name"],
            content=article["content"],
            url=f"{self.url}/kba/{article_id}",
        )
        return 200, {}, out

    def _itglue(self, method: str, path: str, body: Any) -> tuple[int, dict[str, str], Any]:
        if method == "PATCH" and re.fullmatch(r"/documents/\d+/publish", path):
            return 204, {}, None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("attributes"), dict):
            return 422, {}, {"errors": [{"status": "422", "detail": "data is missing"}]}
        attributes = data["attributes"]
        if m := re.fullmatch(r"/organizations/(\d+)/relationships/documents", path):
            if method != "POST" or data.get("type") != "documents" or not attributes.get("name"):
                return 422, {}, {"errors": [{"status": "422", "detail": "bad document"}]}
            out = fixture("itglue_document.json")
            out["data"]["id"] = str(self._new_id())
            out["data"]["attributes"].update(
                name=attributes["name"], **{"organization-id": int(m.group(1))}
            )
            return 201, {}, out
        if method == "PATCH" and (m := re.fullmatch(r"/documents/(\d+)", path)):
            out = fixture("itglue_document.json")
            out["data"]["id"] = m.group(1)
            out["data"]["attributes"]["name"] = attributes.get("name", "")
            return 200, {}, out
        if m := re.fullmatch(r"/documents/(\d+)/relationships/sections(?:/(\d+))?", path):
            if data.get("type") != "document-sections" or not attributes.get("content"):
                return 422, {}, {"errors": [{"status": "422", "detail": "bad section"}]}
            out = fixture("itglue_section.json")
            if method == "POST" and m.group(2) is None:
                if attributes.get("resource-type") != "Document::Text":
                    return 422, {}, {"errors": [{"status": "422", "detail": "resource-type"}]}
                out["data"]["id"] = str(self._new_id())
                status = 201
            elif method == "PATCH" and m.group(2):
                out["data"]["id"] = m.group(2)
                status = 200
            else:
                return 404, {}, {"errors": [{"status": "404", "title": "Not Found"}]}
            out["data"]["attributes"].update(
                content=attributes["content"], **{"document-id": int(m.group(1))}
            )
            return status, {}, out
        return 404, {}, {"errors": [{"status": "404", "title": "Not Found"}]}


@contextmanager
def kb_server(kind: str) -> Iterator[KbServer]:
    state = KbServer(kind)

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, body = state.answer(self.command, self.path, headers, raw)
            payload = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for k, v in extra.items():
                self.send_header(k, v)
            if payload:
                self.send_header(
                    "Content-Type", JSON_API if kind == "itglue" else "application/json"
                )
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = _any  # noqa: N815 - http.server names them

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
