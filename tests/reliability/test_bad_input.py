"""A corpus of bad input: malformed files, wrong content types, huge and deep bodies, odd
Unicode and hostile text. Each is refused with a clean 4xx or exit code, or stored exactly
as given; never a 5xx, a traceback, a half-written import or executed text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from franchise.contacts.models import OwnerContact
from franchise.db import Database
from franchise.policydocs.models import PolicyRevision
from franchise.runbooks.models import RunbookRevision
from tests.reliability.conftest import TALLY
from tests.support import CliInvoker

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "bad_input"
YAML_FILES = sorted((CORPUS / "yaml").iterdir())
CSV_FILES = sorted((CORPUS / "csv").iterdir())
# CSV files whose every row is good: imported whole, exit 0.
GOOD_CSV = {"bom-but-valid.csv": 1, "crlf-and-blank-lines.csv": 1, "header-only.csv": 0}

HOSTILE = [
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "{% raw %}{{ ticket.__class__ }}{% endraw %}",
    "'; DROP TABLE tickets; --",
    '" OR 1=1 --',
    "[bold red]markup[/] and [/] and [link=https://x.example]x[/link]",
    "${jndi:ldap://127.0.0.1/a} %s %n %x",
    "\u202eevil.exe\u202c right-to-left override",
    "zero\u200bwidth\u200djoiner\ufeff",
    "👩‍👩‍👧‍👦 family, 🏳️‍🌈 flag, \U0001f4a9",
    "e\u0301\u0301\u0301 combining, Ω≈ç√∫, 中文, العربية, עברית",
    "line one\nline two\r\nline three\ttab",
    "=cmd|' /C calc'!A0",
    "\\x00 looks like an escape, \\u0000 too",
]
NUL_TEXT = "before\x00after"
# Every YAML document the corpus feeds, with its CLI import and its API save.
DOCUMENTS = {
    "runbook": (["runbook", "import"], ("POST", "/api/v1/runbooks")),
    "escalation": (["escalation", "import"], ("PUT", "/api/v1/escalation/map")),
    "boundaries": (["boundaries", "import"], ("PUT", "/api/v1/boundaries")),
    "templates": (["templates", "import"], ("PUT", "/api/v1/templates")),
}
JSON_ROUTES = [
    ("POST", "/api/v1/tickets"),
    ("PATCH", "/api/v1/tickets/1"),
    ("POST", "/api/v1/contacts"),
    ("POST", "/api/v1/lessons"),
    ("POST", "/api/v1/runbooks"),
    ("PUT", "/api/v1/escalation/map"),
    ("PUT", "/api/v1/boundaries"),
    ("PUT", "/api/v1/templates"),
    ("PUT", "/api/v1/settings/timezone"),
    ("POST", "/api/v1/suggest"),
    ("POST", "/api/v1/runs"),
    ("POST", "/api/v1/tickets/1/ask-owner"),
]
WRONG_BODIES: list[tuple[str, dict[str, str], bytes]] = [
    ("form", {"content-type": "application/x-www-form-urlencoded"}, b"title=x&body=y"),
    ("text", {"content-type": "text/plain"}, b'{"title": "x"}'),
    ("xml", {"content-type": "application/xml"}, b"<ticket><title>x</title></ticket>"),
    (
        "multipart",
        {"content-type": "multipart/form-data; boundary=zz"},
        b"--zz\r\n\r\nx\r\n--zz--\r\n",
    ),
    ("no type", {}, b'{"title": "x"}'),
    ("truncated json", {"content-type": "application/json"}, b'{"title": '),
    ("json array", {"content-type": "application/json"}, b"[]"),
    ("json string", {"content-type": "application/json"}, b'"title"'),
    ("json null", {"content-type": "application/json"}, b"null"),
    ("json huge number", {"content-type": "application/json"}, b'{"title": 1e999}'),
    ("invalid utf-8", {"content-type": "application/json"}, b'{"title": "\xff\xfe"}'),
    (
        "lone surrogate",
        {"content-type": "application/json"},
        b'{"title": "\\ud800", "text": "\\udfff"}',
    ),
    ("empty", {"content-type": "application/json"}, b""),
]


def refusal_problem(response: Any, statuses: tuple[int, ...]) -> str | None:
    """Why a response is not a clean refusal with one of `statuses`, or None."""
    if response.status_code not in statuses:
        return f"{response.status_code} {response.text[:160]}"
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} not JSON: {response.text[:160]}"
    if body.get("ok") is not False or not body.get("error"):
        return f"{response.status_code} not the error shape: {body}"
    return None


def crash_of(result: Any) -> str | None:
    """The exception a CLI run died of (a traceback for the user), or None."""
    exc = result.exception
    if exc is None or isinstance(exc, SystemExit):
        return None
    return f"{type(exc).__name__}: {str(exc)[:160]}"


def stored_revisions(db: Database) -> tuple[int, int]:
    with db.unit_of_work() as session:
        return (
            session.scalar(select(func.count()).select_from(RunbookRevision)) or 0,
            session.scalar(select(func.count()).select_from(PolicyRevision)) or 0,
        )


@pytest.fixture
def owner_cli(cli: CliInvoker, ready_db: Database, owner_token: str) -> CliInvoker:
    return cli


# --- malformed files ---------------------------------------------------------------------


def test_cli_imports_refuse_malformed_yaml_and_store_nothing(
    owner_cli: CliInvoker, ready_db: Database
) -> None:
    problems = []
    for command, _route in DOCUMENTS.values():
        for path in YAML_FILES:
            before = stored_revisions(ready_db)
            result = owner_cli(*command, str(path), "--by", "owner@rel.example")
            TALLY["bad inputs"] += 1
            crash = crash_of(result)
            if crash or result.exit_code not in (1, 2) or "error" not in result.output:
                problems.append(f"{' '.join(command)} {path.name}: exit {result.exit_code} {crash}")
            if stored_revisions(ready_db) != before:
                problems.append(f"{' '.join(command)} {path.name}: stored something")
    assert not Path("/tmp/franchise-pwned").exists()
    assert problems == [], "\n".join(problems)


def test_api_saves_refuse_malformed_yaml_and_store_nothing(
    api: TestClient, ready_db: Database
) -> None:
    problems = []
    for _command, (method, url) in DOCUMENTS.values():
        for path in YAML_FILES:
            raw = path.read_bytes()
            try:
                source = raw.decode("utf-8")
            except UnicodeDecodeError:
                source = raw.decode("latin-1")
            before = stored_revisions(ready_db)
            response = api.request(method, url, json={"source": source, "note": "corpus"})
            TALLY["bad inputs"] += 1
            problem = refusal_problem(response, (409, 422))
            if problem:
                problems.append(f"{method} {url} {path.name}: {problem}")
            if stored_revisions(ready_db) != before:
                problems.append(f"{method} {url} {path.name}: stored something")
    assert not Path("/tmp/franchise-pwned").exists()
    assert problems == [], "\n".join(problems)


def test_contact_csv_import_names_bad_rows_and_stores_only_good_ones(
    owner_cli: CliInvoker, ready_db: Database
) -> None:
    def stored() -> int:
        with ready_db.unit_of_work() as session:
            return session.scalar(select(func.count()).select_from(OwnerContact)) or 0

    problems = []
    for path in CSV_FILES:
        before = stored()
        result = owner_cli("contact", "import", str(path), "--json")
        TALLY["bad inputs"] += 1
        crash = crash_of(result)
        if crash:
            problems.append(f"{path.name}: {crash}")
        elif path.name in GOOD_CSV:
            if result.exit_code != 0 or stored() != before + GOOD_CSV[path.name]:
                problems.append(f"{path.name}: exit {result.exit_code}, {result.output[:200]}")
        elif result.exit_code == 1 and result.stdout.startswith("{"):
            report = json.loads(result.stdout)
            named = all(isinstance(e["line"], int) and e["message"] for e in report["errors"])
            if not report["errors"] or not named or stored() != before + report["imported"]:
                problems.append(f"{path.name}: {report}")
        elif result.exit_code not in (1, 2) or stored() != before:
            problems.append(f"{path.name}: exit {result.exit_code}, {result.output[:200]}")
    assert problems == [], "\n".join(problems)


# --- wrong content types, huge and deep bodies -------------------------------------------


def test_json_routes_refuse_wrong_bodies_with_4xx(api: TestClient) -> None:
    problems = []
    for method, url in JSON_ROUTES:
        for kind, headers, content in WRONG_BODIES:
            response = api.request(method, url, content=content, headers=headers)
            TALLY["bad inputs"] += 1
            problem = refusal_problem(response, (400, 404, 409, 415, 422))
            if problem:
                problems.append(f"{method} {url} [{kind}]: {problem}")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_bodies_over_the_limit_get_413(api: TestClient, chunked: bool) -> None:
    body = json.dumps({"title": "x" * 100_000, "source": "y" * 100_000}).encode()
    problems = []
    for method, url in JSON_ROUTES:
        content: Any = iter([body[:50_000], body[50_000:]]) if chunked else body
        response = api.request(
            method, url, content=content, headers={"content-type": "application/json"}
        )
        TALLY["bad inputs"] += 1
        problem = refusal_problem(response, (413,))
        if problem:
            problems.append(f"{method} {url}: {problem}")
    assert problems == [], "\n".join(problems)


DEEP = {
    "arrays": b"[" * 10_000 + b"]" * 10_000,
    "objects": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "array in a field": b'{"title": "x", "tags": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    "unclosed arrays": b"[" * 50_000,
}


def test_deeply_nested_json_gets_a_clean_4xx(api: TestClient) -> None:
    problems = []
    for method, url in JSON_ROUTES:
        for shape, content in sorted(DEEP.items()):
            response = api.request(
                method, url, content=content, headers={"content-type": "application/json"}
            )
            TALLY["bad inputs"] += 1
            problem = refusal_problem(response, (400, 404, 409, 413, 422))
            if problem:
                problems.append(f"{method} {url} [{shape}]: {problem}")
    assert problems == [], "\n".join(problems)


# --- odd Unicode and hostile text in every free-text field -------------------------------


def _texts() -> list[str]:
    return [*HOSTILE, NUL_TEXT]


def _stored_or_refused(response: Any, sent: str, read_back: Any, where: str) -> str | None:
    """Either refused cleanly (422) or stored exactly as sent and read back equal."""
    if response.status_code >= 400:
        return (
            None
            if refusal_problem(response, (422,)) is None
            else (f"{where}: {refusal_problem(response, (422,))}")
        )
    value = read_back()
    return None if value == sent else f"{where}: sent {sent!r}, read back {value!r}"


def test_free_text_is_stored_exactly_or_refused_cleanly(api: TestClient) -> None:
    problems: list[str | None] = []
    for text in _texts():
        made = api.post("/api/v1/tickets", json={"title": text, "body": text})
        TALLY["bad inputs"] += 1
        if made.status_code >= 400:
            problems.append(
                None
                if refusal_problem(made, (422,)) is None
                else f"ticket {text!r}: {made.status_code} {made.text[:160]}"
            )
            continue
        ticket = made.json()["id"]
        shown = api.get(f"/api/v1/tickets/{ticket}").json()
        problems.append(
            None
            if (shown["title"], shown["body"]) == (text, text)
            else f"ticket {text!r}: read back {shown['title']!r}"
        )

        patched = api.patch(f"/api/v1/tickets/{ticket}", json={"priority": "high", "note": text})
        TALLY["bad inputs"] += 1
        problems.append(
            _stored_or_refused(
                patched,
                text,
                lambda t=ticket: [
                    e["note"]
                    for e in api.get(f"/api/v1/tickets/{t}").json()["history"]
                    if e["note"]
                ][-1],
                f"ticket note {text!r}",
            )
        )
        lesson = api.post(
            "/api/v1/lessons",
            json={"ticket_id": ticket, "runbook": "vpn-auth-failure", "text": text},
        )
        TALLY["bad inputs"] += 1
        problems.append(
            _stored_or_refused(
                lesson,
                text.strip(),
                lambda r=lesson: next(
                    x["text"]
                    for x in api.get("/api/v1/lessons").json()
                    if x["id"] == r.json()["id"]
                ),
                f"lesson {text!r}",
            )
        )
        contact = api.post(
            "/api/v1/contacts",
            json={"channel": "call", "reason": "other", "question": text, "answer": text},
        )
        TALLY["bad inputs"] += 1
        problems.append(
            _stored_or_refused(
                contact,
                text,
                lambda r=contact: next(
                    c["question"]
                    for c in api.get("/api/v1/contacts").json()
                    if c["id"] == r.json()["id"]
                ),
                f"contact question {text!r}",
            )
        )
        asked = api.post(
            f"/api/v1/tickets/{ticket}/ask-owner", json={"reason": "other", "question": text}
        )
        TALLY["bad inputs"] += 1
        if asked.status_code >= 500:
            problems.append(f"ask-owner {text!r}: {asked.status_code} {asked.text[:160]}")
    found = [p for p in problems if p]
    assert found == [], "\n".join(found)


RUNBOOK = """key: corpus-runbook
title: Corpus runbook
category: printer
status: draft
description: {text}
match: {{keywords: [corpus]}}
start: first
steps:
  first:
    kind: check
    text: {text}
    options: {{"Fixed": done, "Not fixed": up}}
  done: {{kind: resolve, text: {text}}}
  up: {{kind: escalate, to: L2, text: {text}}}
done_when: [{text}]
"""


def test_runbook_step_text_is_stored_exactly_or_refused_cleanly(api: TestClient) -> None:
    # (YAML scalar, what it means); the last is a surrogate pair written as two escapes,
    # as JSON tools write emoji: it must mean the emoji, or be refused.
    cases = [(json.dumps(text, ensure_ascii=False), text) for text in _texts()]
    cases.append(('"\\ud83d\\udca9 escaped pair"', "\U0001f4a9 escaped pair"))
    problems = []
    for scalar, text in cases:
        source = RUNBOOK.format(text=scalar)
        saved = api.post("/api/v1/runbooks", json={"source": source, "note": "corpus"})
        TALLY["bad inputs"] += 1
        if saved.status_code >= 400:
            problem = refusal_problem(saved, (422,))
            if problem:
                problems.append(f"runbook {scalar}: {problem}")
            continue
        shown = api.get("/api/v1/runbooks/corpus-runbook")
        if shown.status_code != 200:
            problems.append(
                f"runbook {scalar}: saved, then GET {shown.status_code} {shown.text[:80]}"
            )
            continue
        steps = {sid: step["text"] for sid, step in shown.json()["steps"].items()}
        if steps["first"] != text or steps["done"] != text:
            problems.append(f"runbook {scalar}: read back {steps}")
    assert problems == [], "\n".join(problems)


def test_nul_in_text_is_stored_or_refused_with_422_on_every_backend(api: TestClient) -> None:
    response = api.post("/api/v1/tickets", json={"title": NUL_TEXT, "body": NUL_TEXT})
    TALLY["bad inputs"] += 1
    assert response.status_code in (201, 422), (response.status_code, response.text[:200])
    if response.status_code == 201:
        assert api.get(f"/api/v1/tickets/{response.json()['id']}").json()["title"] == NUL_TEXT


def test_ticket_show_prints_hostile_text_literally(api: TestClient, owner_cli: CliInvoker) -> None:
    problems = []
    for text in HOSTILE:
        if "\r" in text or "\t" in text:
            continue  # the terminal rightly obeys carriage returns and expands tabs
        ticket = api.post("/api/v1/tickets", json={"title": text, "body": text}).json()["id"]
        result = owner_cli("ticket", "show", str(ticket))
        TALLY["bad inputs"] += 1
        crash = crash_of(result)
        if crash or result.exit_code != 0:
            problems.append(f"ticket show {text!r}: exit {result.exit_code} {crash}")
        elif text not in result.stdout:
            problems.append(f"ticket show {text!r}: not printed literally")
    assert problems == [], "\n".join(problems)


def test_templates_never_evaluate_ticket_text(api: TestClient) -> None:
    problems = []
    for text in ("{{ 7*7 }}", "{% raw %}{{ ticket.__class__ }}{% endraw %}", "{{ ''.__class__ }}"):
        ticket = api.post("/api/v1/tickets", json={"title": text}).json()["id"]
        for template in ("acknowledged", "update", "resolved"):
            rendered = api.post(
                f"/api/v1/tickets/{ticket}/messages/preview",
                json={"template": template, "to": "client@example.com"},
            )
            TALLY["bad inputs"] += 1
            if rendered.status_code != 200:
                problems.append(
                    f"{template} {text!r}: {rendered.status_code} {rendered.text[:160]}"
                )
                continue
            message = rendered.json()
            shown = message["subject"] + message["body"]
            # The subject names the ticket: its id may hold a "49" of its own.
            subject = message["subject"].replace(str(ticket), "")
            if text not in shown or (text == "{{ 7*7 }}" and "49" in subject):
                problems.append(f"{template} {text!r}: {message['subject']!r}")
    assert problems == [], "\n".join(problems)
