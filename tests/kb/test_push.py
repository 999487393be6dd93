"""Publishing runbooks to Hudu and IT Glue, against stand-ins on loopback that answer with
the documented shapes and check every request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from franchise.db import Database
from franchise.errors import InvalidInput
from franchise.kb import service
from franchise.kb.http import LONGEST_WAIT, retry_after
from franchise.kb.models import KbArticle
from franchise.orgsettings.models import OrgSetting
from franchise.runbooks.service import current_source as source_of
from franchise.runbooks.service import get_runbook, load_starter, save_runbook
from franchise.settings import Settings
from tests.kb.server import API_KEY, JSON_API, KbServer, Scripted, fixture, kb_server
from tests.support import CliInvoker

STARTER = Path(__file__).resolve().parents[2] / "src" / "franchise" / "starter" / "runbooks"
KEYS = sorted(p.stem for p in STARTER.glob("*.yaml"))
PUBLIC = "https://franchise.acme.example"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, public_url=PUBLIC)


@pytest.fixture
def starter(db: Database) -> None:
    with db.unit_of_work() as session:
        load_starter(session)


@pytest.fixture
def hudu() -> Iterator[KbServer]:
    with kb_server("hudu") as server:
        yield server


@pytest.fixture
def itglue() -> Iterator[KbServer]:
    with kb_server("itglue") as server:
        yield server


class Clock:
    """Stands in for time.sleep: records the waits instead of spending them."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def connect(db: Database, settings: Settings, server: KbServer, **extra: str) -> None:
    with db.unit_of_work() as session:
        service.connect(session, settings, server.kind, url=server.url, api_key=API_KEY, **extra)


def articles(db: Database, kind: str) -> dict[str, KbArticle]:
    with db.unit_of_work() as session:
        rows = session.scalars(select(KbArticle).where(KbArticle.kind == kind))
        return {r.runbook_key: r for r in rows}


def revise(db: Database, key: str) -> int:
    with db.unit_of_work() as session:
        row = get_runbook(session, key)
        text = source_of(session, row).replace("\ntitle: ", "\ntitle: Revised ", 1)
        return save_runbook(session, text, note="clearer title").revision


def test_hudu_creates_one_article_per_runbook_then_updates_only_what_changed(
    db: Database, settings: Settings, starter: None, hudu: KbServer
) -> None:
    connect(db, settings, hudu, company_id="7", folder_id="9")
    report = service.push(db, settings, "hudu", sleep=Clock())
    assert report.ok and sorted(p["key"] for p in report.pushed) == KEYS
    posts = hudu.sent("POST")
    assert len(posts) == len(KEYS) == len(hudu.requests)
    for request in posts:
        assert request.path == "/api/v1/articles"
        assert request.headers["x-api-key"] == API_KEY
        assert request.headers["content-type"] == "application/json"
        article = request.body["article"]
        assert set(article) == {"name", "content", "company_id", "folder_id"}
        assert article["company_id"] == 7 and article["folder_id"] == 9
        assert "<svg" in article["content"] and f'href="{PUBLIC}/runbooks/' in article["content"]
    vpn = next(r for r in posts if "vpn-auth-failure" in r.body["article"]["content"])
    assert vpn.body["article"]["name"] == "VPN won't connect (authentication failure)"
    stored = articles(db, "hudu")
    assert sorted(stored) == KEYS
    assert all(a.pushed_revision == 1 and a.section_id is None for a in stored.values())
    assert len({a.external_id for a in stored.values()}) == len(KEYS)

    # Nothing changed: nothing is sent.
    hudu.requests.clear()
    again = service.push(db, settings, "hudu", sleep=Clock())
    assert again.pushed == [] and sorted(again.unchanged) == KEYS and hudu.requests == []

    # A revision goes out as an update of the remembered article.
    assert revise(db, "vpn-auth-failure") == 2
    third = service.push(db, settings, "hudu", sleep=Clock())
    assert [(p["key"], p["action"], p["revision"]) for p in third.pushed] == [
        ("vpn-auth-failure", "updated", 2)
    ]
    (put,) = hudu.requests
    assert put.method == "PUT"
    assert put.path == f"/api/v1/articles/{stored['vpn-auth-failure'].external_id}"
    assert put.body["article"]["name"].startswith("Revised ")
    assert "revision 2" in put.body["article"]["content"]
    assert articles(db, "hudu")["vpn-auth-failure"].pushed_revision == 2

    # --all sends every runbook again, as updates.
    hudu.requests.clear()
    forced = service.push(db, settings, "hudu", force=True, sleep=Clock())
    assert len(forced.pushed) == len(KEYS) and {r.method for r in hudu.requests} == {"PUT"}


def test_hudu_honours_retry_after_and_retries_5xx_with_backoff(
    db: Database, settings: Settings, starter: None, hudu: KbServer
) -> None:
    connect(db, settings, hudu)
    hudu.script = [
        Scripted("POST", "/api/v1/articles", 429, {"Retry-After": "7"}, {"error": "slow down"}),
        Scripted("POST", "/api/v1/articles", 503, {}, None),
        Scripted("POST", "/api/v1/articles", 502, {}, None),
    ]
    clock = Clock()
    report = service.push(db, settings, "hudu", sleep=clock)
    assert report.ok and len(report.pushed) == len(KEYS)
    # 7 s as asked after the 1st try; after the 2nd and 3rd (no Retry-After) 4 s and 8 s.
    assert clock.waits == [7.0, 4.0, 8.0]
    assert len(hudu.requests) == len(KEYS) + 3
    assert len(articles(db, "hudu")) == len(KEYS)


def test_one_runbook_failing_loses_none_of_the_others(
    db: Database, settings: Settings, starter: None, hudu: KbServer
) -> None:
    connect(db, settings, hudu)
    # The first runbook (by category, then key) meets four 500s in a row: it fails.
    hudu.script = [Scripted("POST", "/api/v1/articles", 500, {}, None) for _ in range(4)]
    clock = Clock()
    report = service.push(db, settings, "hudu", sleep=clock)
    assert clock.waits == [2.0, 4.0, 8.0]
    assert len(report.failed) == 1 and not report.ok
    failed = report.failed[0]["key"]
    assert "HTTP 500" in report.failed[0]["error"]
    assert sorted(p["key"] for p in report.pushed) == sorted(k for k in KEYS if k != failed)
    assert failed not in articles(db, "hudu")
    # The next push sends only the one that failed.
    hudu.requests.clear()
    retry = service.push(db, settings, "hudu", sleep=Clock())
    assert [p["key"] for p in retry.pushed] == [failed] and len(hudu.requests) == 1


def test_a_wait_longer_than_a_run_can_take_is_a_failure_not_a_hang(
    db: Database, settings: Settings, starter: None, hudu: KbServer
) -> None:
    connect(db, settings, hudu)
    too_long = str(int(LONGEST_WAIT) + 1)
    hudu.script = [Scripted("POST", "/api/v1/articles", 429, {"Retry-After": too_long}, None)]
    clock = Clock()
    report = service.push(db, settings, "hudu", sleep=clock)
    assert clock.waits == []
    assert len(report.failed) == 1 and f"retry after {too_long} s" in report.failed[0]["error"]
    assert len(report.pushed) == len(KEYS) - 1


def test_a_wrong_api_key_fails_every_runbook_and_stores_nothing(
    db: Database, settings: Settings, starter: None, hudu: KbServer
) -> None:
    with db.unit_of_work() as session:
        service.connect(session, settings, "hudu", url=hudu.url, api_key="wrong-key")
    clock = Clock()
    report = service.push(db, settings, "hudu", sleep=clock)
    assert len(report.failed) == len(KEYS) and report.pushed == []
    assert all("HTTP 401 Invalid API key" in f["error"] for f in report.failed)
    assert clock.waits == [] and articles(db, "hudu") == {}


def test_an_article_deleted_in_hudu_is_made_again(
    db: Database, settings: Settings, starter: None, hudu: KbServer
) -> None:
    connect(db, settings, hudu)
    service.push(db, settings, "hudu", sleep=Clock())
    old = articles(db, "hudu")["mfa-problem"].external_id
    revise(db, "mfa-problem")
    hudu.requests.clear()
    hudu.script = [Scripted("PUT", rf"/api/v1/articles/{old}", 404, {}, {"error": "Not found"})]
    report = service.push(db, settings, "hudu", sleep=Clock())
    assert [(r.method, r.path) for r in hudu.requests] == [
        ("PUT", f"/api/v1/articles/{old}"),
        ("POST", "/api/v1/articles"),
    ]
    assert report.ok
    assert articles(db, "hudu")["mfa-problem"].external_id != old


def test_itglue_creates_documents_with_a_text_section_then_updates_them(
    db: Database, settings: Settings, starter: None, itglue: KbServer
) -> None:
    connect(db, settings, itglue, organization_id="4321", folder_id="55")
    report = service.push(db, settings, "itglue", sleep=Clock())
    assert report.ok and len(report.pushed) == len(KEYS)
    for request in itglue.requests:
        assert request.headers["x-api-key"] == API_KEY
        assert request.headers["content-type"] == JSON_API
    # Per runbook: the document, its text section, then publish.
    shapes = [(r.method, r.path.split("/")[1], r.path.split("/")[-1]) for r in itglue.requests]
    assert shapes[:3] == [
        ("POST", "organizations", "documents"),
        ("POST", "documents", "sections"),
        ("PATCH", "documents", "publish"),
    ]
    assert len(itglue.requests) == 3 * len(KEYS)
    create = itglue.requests[0]
    assert create.path == "/organizations/4321/relationships/documents"
    assert create.body["data"]["type"] == "documents"
    assert create.body["data"]["attributes"]["document-folder-id"] == 55
    section = itglue.requests[1]
    doc_id = fixture_id = str(int(itglue.requests[1].path.split("/")[2]))
    assert section.path == f"/documents/{doc_id}/relationships/sections"
    assert section.body["data"]["type"] == "document-sections"
    assert section.body["data"]["attributes"]["resource-type"] == "Document::Text"
    assert "<svg" in section.body["data"]["attributes"]["content"]
    assert itglue.requests[2].path == f"/documents/{fixture_id}/publish"
    assert itglue.requests[2].body is None
    stored = articles(db, "itglue")
    assert all(a.section_id and a.external_id != a.section_id for a in stored.values())

    revise(db, "backup-missing")
    itglue.requests.clear()
    again = service.push(db, settings, "itglue", sleep=Clock())
    assert [p["action"] for p in again.pushed] == ["updated"]
    doc = stored["backup-missing"]
    assert [(r.method, r.path) for r in itglue.requests] == [
        ("PATCH", f"/documents/{doc.external_id}"),
        ("PATCH", f"/documents/{doc.external_id}/relationships/sections/{doc.section_id}"),
        ("PATCH", f"/documents/{doc.external_id}/publish"),
    ]
    assert itglue.requests[0].body == {
        "data": {"type": "documents", "attributes": {"name": "Revised " + _title(db)}}
    }
    assert set(itglue.requests[1].body["data"]["attributes"]) == {"content"}


def _title(db: Database) -> str:
    with db.unit_of_work() as session:
        return get_runbook(session, "backup-missing").title.removeprefix("Revised ")


def test_itglue_document_made_before_a_failure_is_finished_not_duplicated(
    db: Database, settings: Settings, starter: None, itglue: KbServer
) -> None:
    connect(db, settings, itglue, organization_id="4321")
    error = fixture("itglue_error.json")
    itglue.script = [Scripted("POST", r"/documents/\d+/relationships/sections", 422, {}, error)]
    report = service.push(db, settings, "itglue", sleep=Clock())
    (failed,) = report.failed
    assert "HTTP 422 Content is too long" in failed["error"]
    half = articles(db, "itglue")[failed["key"]]
    assert half.pushed_revision == 0 and half.section_id is None and half.external_id
    with db.unit_of_work() as session:
        status = service.status(session, settings)["itglue"]
    states = {a["key"]: a["state"] for a in status["articles"]}
    assert states[failed["key"]] == "unfinished" and status["due"] == 1

    itglue.requests.clear()
    retry = service.push(db, settings, "itglue", sleep=Clock())
    assert retry.ok and [p["key"] for p in retry.pushed] == [failed["key"]]
    assert [(r.method, r.path) for r in itglue.requests] == [
        ("PATCH", f"/documents/{half.external_id}"),
        ("POST", f"/documents/{half.external_id}/relationships/sections"),
        ("PATCH", f"/documents/{half.external_id}/publish"),
    ]
    done = articles(db, "itglue")[failed["key"]]
    assert done.pushed_revision == 1 and done.section_id


def test_itglue_retries_a_429_on_publish(
    db: Database, settings: Settings, starter: None, itglue: KbServer
) -> None:
    connect(db, settings, itglue, organization_id="1")
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    itglue.script = [Scripted("PATCH", r"/documents/\d+/publish", 429, {"Retry-After": when})]
    clock = Clock()
    report = service.push(db, settings, "itglue", sleep=clock)
    assert report.ok and len(clock.waits) == 1 and 25 <= clock.waits[0] <= 30


def test_retry_after_reads_seconds_and_dates() -> None:
    now = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    assert retry_after("120", now) == 120.0
    assert retry_after("0", now) == 0.0
    assert retry_after("Thu, 03 Dec 2026 18:00:45 GMT", now) == 45.0
    assert retry_after("Thu, 03 Dec 2026 17:59:00 GMT", now) == 0.0
    assert retry_after(None, now) is None and retry_after("soon", now) is None


def test_connect_checks_what_it_is_given(db: Database, settings: Settings) -> None:
    with db.unit_of_work() as session:
        with pytest.raises(InvalidInput, match="--organization-id"):
            service.connect(session, settings, "itglue", url=None, api_key="k")
        with pytest.raises(InvalidInput, match="--url"):
            service.connect(session, settings, "hudu", url="acme.huducloud.com", api_key="k")
        with pytest.raises(InvalidInput, match="--api-key"):
            service.connect(session, settings, "hudu", url="https://h.example", api_key=" ")
        with pytest.raises(InvalidInput, match="--folder-id"):
            service.connect(
                session, settings, "hudu", url="https://h.example", api_key="k", folder_id="x1"
            )
        with pytest.raises(InvalidInput, match="unknown knowledge base 'confluence'"):
            service.connect(session, settings, "confluence", url="https://c.example", api_key="k")
        conn = service.connect(
            session, settings, "itglue", url=None, api_key="k", organization_id="3"
        )
        assert conn.url == "https://api.itglue.com"


def test_push_without_a_connection_says_how_to_connect(
    db: Database, settings: Settings, starter: None
) -> None:
    with pytest.raises(InvalidInput, match="franchise kb connect hudu"):
        service.push(db, settings, "hudu", client=httpx.Client(), sleep=Clock())


def test_cli_connect_push_status_keep_the_key_sealed(
    db: Database, cli: CliInvoker, starter: None, hudu: KbServer
) -> None:
    result = cli("kb", "connect", "hudu", "--url", hudu.url, "--api-key", API_KEY)
    assert result.exit_code == 0, result.output
    with db.unit_of_work() as session:
        stored = session.get(OrgSetting, "kb_hudu")
        assert stored is not None and API_KEY not in json.dumps(stored.value)
    result = cli("kb", "status", "--json")
    assert result.exit_code == 0, result.output
    assert API_KEY not in result.output
    data = json.loads(result.output)
    assert data["hudu"]["connected"] and data["hudu"]["due"] == len(KEYS)
    assert data["itglue"]["connected"] is False

    result = cli("kb", "push", "hudu")
    assert result.exit_code == 0, result.output
    assert f"{len(KEYS)} pushed, 0 unchanged, 0 failed" in result.output
    data = json.loads(cli("kb", "status", "--json").output)
    assert data["hudu"]["due"] == 0
    assert {a["state"] for a in data["hudu"]["articles"]} == {"up to date"}

    hudu.script = [Scripted("PUT", r"/api/v1/articles/\d+", 403, {}, {"error": "forbidden"})]
    result = cli("kb", "push", "hudu", "--all", "--json")
    assert result.exit_code == 1
    out = json.loads(result.output)
    assert len(out["failed"]) == 1 and "HTTP 403 forbidden" in out["failed"][0]["error"]
    assert len(out["pushed"]) == len(KEYS) - 1


def test_an_itglue_document_deleted_out_there_is_made_again(
    db: Database, settings: Settings, starter: None, itglue: KbServer
) -> None:
    connect(db, settings, itglue, organization_id="8")
    service.push(db, settings, "itglue", sleep=Clock())
    old = articles(db, "itglue")["printer-problem"]
    revise(db, "printer-problem")
    itglue.requests.clear()
    gone = {"errors": [{"status": "404", "title": "Not Found"}]}
    itglue.script = [Scripted("PATCH", rf"/documents/{old.external_id}", 404, {}, gone)]
    report = service.push(db, settings, "itglue", sleep=Clock())
    assert report.ok
    calls = [(r.method, r.path) for r in itglue.requests]
    assert calls[:2] == [
        ("PATCH", f"/documents/{old.external_id}"),
        ("POST", "/organizations/8/relationships/documents"),
    ]
    new = articles(db, "itglue")["printer-problem"]
    assert new.external_id != old.external_id and new.section_id != old.section_id
    assert calls[2:] == [
        ("POST", f"/documents/{new.external_id}/relationships/sections"),
        ("PATCH", f"/documents/{new.external_id}/publish"),
    ]
