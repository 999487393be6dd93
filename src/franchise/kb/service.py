"""Publishing runbooks to a knowledge base: credentials, what is due, the push, its status.

A push has three parts, as every outbound delivery: read what is due in a short
transaction, talk to the knowledge base with no transaction open, and record each article
in its own short transaction as soon as it is out, so one runbook's failure loses none of
the others and a crash half-way keeps every id already created.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from franchise.db import Database, utcnow
from franchise.errors import InvalidInput
from franchise.kb.http import TIMEOUT_SECONDS, KbHttpError, Sleep
from franchise.kb.models import KbArticle
from franchise.kb.vendors import Connection, PartialPush, Pushed, push_hudu, push_itglue
from franchise.orgsettings.models import OrgSetting
from franchise.orgsettings.sealing import Unsealable, seal, unseal
from franchise.orgsettings.secrets import effective_settings
from franchise.runbooks import service as runbooks
from franchise.runbooks.article import ArticleSource, html_fragment
from franchise.settings import Settings

if TYPE_CHECKING:
    # Imported where a request is sent: httpx loads about 5 MB (its command line's rich
    # and pygments too), which a server that never calls out does without.
    import httpx

KINDS = ("hudu", "itglue")
NAMES = {"hudu": "Hudu", "itglue": "IT Glue"}
ITGLUE_DEFAULT_URL = "https://api.itglue.com"
_URL = re.compile(r"^https?://[^\s/?#]+(?:/[^\s?#]*)?$")
_ID = re.compile(r"^[0-9]{1,18}$")


def _setting_key(kind: str) -> str:
    return f"kb_{kind}"


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidInput(f"unknown knowledge base '{kind}' (use {' or '.join(KINDS)})")
    return kind


def connect(
    session: Session,
    settings: Settings,
    kind: str,
    *,
    url: str | None,
    api_key: str,
    organization_id: str | None = None,
    folder_id: str | None = None,
    company_id: str | None = None,
) -> Connection:
    """Check and store a knowledge base's connection, sealed (the API key is a secret)."""
    _check_kind(kind)
    address = (url or (ITGLUE_DEFAULT_URL if kind == "itglue" else "")).strip().rstrip("/")
    if not _URL.match(address) or len(address) > 500:
        example = "https://acme.huducloud.com" if kind == "hudu" else ITGLUE_DEFAULT_URL
        raise InvalidInput(f"--url: give the {NAMES[kind]} address, e.g. {example}")
    key = api_key.strip()
    if not key or len(key) > 500 or any(c.isspace() for c in key):
        raise InvalidInput("--api-key: give the API key (one word, at most 500 characters)")
    for name, value in (
        ("--organization-id", organization_id),
        ("--folder-id", folder_id),
        ("--company-id", company_id),
    ):
        if value is not None and not _ID.match(value.strip()):
            raise InvalidInput(f"{name}: give the numeric id, got {value!r}")
    if kind == "itglue" and not organization_id:
        raise InvalidInput(
            "--organization-id: IT Glue documents belong to an organization; give its id "
            "(the number in the organization's address in IT Glue)"
        )
    if kind == "itglue" and company_id:
        raise InvalidInput("--company-id is for Hudu; IT Glue uses --organization-id")
    if kind == "hudu" and organization_id:
        raise InvalidInput("--organization-id is for IT Glue; Hudu uses --company-id")
    conn = Connection(
        kind=kind,
        url=address,
        api_key=key,
        organization_id=organization_id.strip() if organization_id else None,
        folder_id=folder_id.strip() if folder_id else None,
        company_id=company_id.strip() if company_id else None,
    )
    sealed = seal(settings, json.dumps(conn.__dict__, sort_keys=True))
    row = session.get(OrgSetting, _setting_key(kind))
    if row is None:
        session.add(OrgSetting(key=_setting_key(kind), value={"sealed": sealed}))
    else:
        row.value = {"sealed": sealed}
        row.updated_at = utcnow()
    session.flush()
    return conn


def disconnect(session: Session, kind: str) -> None:
    _check_kind(kind)
    session.execute(delete(OrgSetting).where(OrgSetting.key == _setting_key(kind)))
    session.flush()


def connection(session: Session, settings: Settings, kind: str) -> Connection | None:
    """The stored connection; InvalidInput when it was sealed with another key."""
    _check_kind(kind)
    row = session.get(OrgSetting, _setting_key(kind))
    if row is None or "sealed" not in (row.value or {}):
        return None
    try:
        data = json.loads(unseal(settings, str(row.value["sealed"])))
    except Unsealable as exc:
        raise InvalidInput(
            f"the {NAMES[kind]} connection cannot be read ({exc}); run "
            f"`franchise kb connect {kind}` again"
        ) from None
    return Connection(**data)


@dataclass(frozen=True)
class Due:
    key: str
    revision: int
    title: str
    html: str
    existing: Pushed | None


@dataclass
class PushReport:
    kind: str
    pushed: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ok": self.ok,
            "pushed": self.pushed,
            "unchanged": self.unchanged,
            "failed": self.failed,
        }


def due_articles(
    session: Session, settings: Settings, kind: str, *, force: bool = False
) -> tuple[list[Due], list[str]]:
    """Runbooks whose current revision is not in the knowledge base yet, as articles; and
    the keys already up to date. Archived runbooks are not published."""
    base_url = effective_settings(session, settings).base_url
    known = {
        a.runbook_key: a for a in session.scalars(select(KbArticle).where(KbArticle.kind == kind))
    }
    due: list[Due] = []
    unchanged: list[str] = []
    for row in runbooks.list_runbooks(session, include_archived=False):
        article = known.get(row.key)
        if article is not None and article.pushed_revision == row.current_revision and not force:
            unchanged.append(row.key)
            continue
        parsed = runbooks.definition(session, row)
        html = html_fragment(ArticleSource(parsed, row.current_revision, base_url))
        existing = Pushed(article.external_id, article.section_id) if article else None
        due.append(Due(row.key, row.current_revision, parsed.title, html, existing))
    return due, unchanged


def push(
    db: Database,
    settings: Settings,
    kind: str,
    *,
    force: bool = False,
    client: httpx.Client | None = None,
    sleep: Sleep = time.sleep,
) -> PushReport:
    """Create or update one article per runbook; failures are reported per runbook."""
    import httpx

    _check_kind(kind)
    with db.unit_of_work() as session:
        conn = connection(session, settings, kind)
        if conn is None:
            raise InvalidInput(
                f"{NAMES[kind]} is not connected; run `franchise kb connect {kind} --url ... "
                "--api-key ...` first"
            )
        due, unchanged = due_articles(session, settings, kind, force=force)
    report = PushReport(kind, unchanged=unchanged)
    send = push_hudu if kind == "hudu" else push_itglue
    http = client or httpx.Client(timeout=TIMEOUT_SECONDS)
    try:
        for item in due:
            try:
                done = send(
                    http,
                    conn,
                    title=item.title,
                    html=item.html,
                    existing=item.existing,
                    sleep=sleep,
                )
            except PartialPush as exc:
                _record(db, kind, item.key, exc.done, revision=0)
                report.failed.append({"key": item.key, "error": exc.message})
                continue
            except KbHttpError as exc:
                report.failed.append({"key": item.key, "error": exc.message})
                continue
            _record(db, kind, item.key, done, revision=item.revision)
            action = "updated" if item.existing else "created"
            report.pushed.append(
                {
                    "key": item.key,
                    "revision": item.revision,
                    "external_id": done.external_id,
                    "action": action,
                }
            )
    finally:
        if client is None:
            http.close()
    return report


def _record(db: Database, kind: str, key: str, done: Pushed, *, revision: int) -> None:
    """Remember the article's ids; revision 0 marks one that still needs finishing."""
    with db.unit_of_work() as session:
        row = session.scalar(
            select(KbArticle).where(KbArticle.kind == kind, KbArticle.runbook_key == key)
        )
        if row is None:
            row = KbArticle(kind=kind, runbook_key=key, external_id="", pushed_revision=0)
            session.add(row)
        row.external_id = done.external_id
        row.section_id = done.section_id
        row.pushed_revision = revision
        row.pushed_at = utcnow()
        session.flush()


def status(session: Session, settings: Settings) -> dict[str, Any]:
    """Per knowledge base: connected where, and each runbook's article and whether it is
    behind the runbook's current revision. Never the API key."""
    rows = runbooks.list_runbooks(session, include_archived=False)
    out: dict[str, Any] = {}
    for kind in KINDS:
        try:
            conn = connection(session, settings, kind)
            problem = None
        except InvalidInput as exc:
            conn, problem = None, exc.message
        known = {
            a.runbook_key: a
            for a in session.scalars(select(KbArticle).where(KbArticle.kind == kind))
        }
        articles = []
        for row in rows:
            a = known.get(row.key)
            if a is None:
                state = "not pushed"
            elif a.pushed_revision == 0:
                state = "unfinished"
            elif a.pushed_revision == row.current_revision:
                state = "up to date"
            else:
                state = "behind"
            articles.append(
                {
                    "key": row.key,
                    "revision": row.current_revision,
                    "pushed_revision": a.pushed_revision if a else None,
                    "external_id": a.external_id if a else None,
                    "pushed_at": a.pushed_at.isoformat() if a else None,
                    "state": state,
                }
            )
        out[kind] = {
            "connected": conn is not None,
            "url": conn.url if conn else None,
            "organization_id": conn.organization_id if conn else None,
            "company_id": conn.company_id if conn else None,
            "folder_id": conn.folder_id if conn else None,
            "problem": problem,
            "due": sum(1 for a in articles if a["state"] != "up to date"),
            "articles": articles,
        }
    return out
