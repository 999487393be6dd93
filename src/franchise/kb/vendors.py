"""The two knowledge bases' article calls: Hudu articles and IT Glue documents.

Hudu (REST, header `x-api-key`; every Hudu instance serves its API reference at
https://YOUR-HUDU/developer/api, and the HuduAPI PowerShell module documents the same shapes:
https://github.com/lwhitelock/HuduAPI, New-HuduArticle.ps1 / Set-HuduArticle.ps1):
  POST /api/v1/articles       {"article": {"name", "content", "company_id"?, "folder_id"?}}
  PUT  /api/v1/articles/{id}  the same body
  both answer {"article": {"id": ..., "name": ..., "url": ...}}.

IT Glue (JSON:API, header `x-api-key`, Content-Type application/vnd.api+json; reference at
https://api.itglue.com/developer, sections "Documents" and "Document Sections"):
  POST  /organizations/{org}/relationships/documents
        {"data": {"type": "documents", "attributes": {"name", "document-folder-id"?}}}
  PATCH /documents/{id}                      {"data": {"type": "documents", "attributes": {"name"}}}
  POST  /documents/{id}/relationships/sections
        {"data": {"type": "document-sections",
                  "attributes": {"resource-type": "Document::Text", "content": html}}}
  PATCH /documents/{id}/relationships/sections/{section}
        {"data": {"type": "document-sections", "attributes": {"content": html}}}
  PATCH /documents/{id}/publish             (section edits become visible once published)
  answers {"data": {"id": "...", "type": ..., "attributes": {...}}}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from franchise.kb.http import KbHttpError, Sleep, call

if TYPE_CHECKING:
    # Imported where a request is sent: httpx loads about 5 MB (its command line's rich
    # and pygments too), which a server that never calls out does without.
    import httpx

JSON_API = "application/vnd.api+json"


@dataclass(frozen=True)
class Connection:
    kind: str
    url: str
    api_key: str
    organization_id: str | None = None  # IT Glue: the organization the documents belong to
    folder_id: str | None = None
    company_id: str | None = None  # Hudu: a company's KB instead of the global one


@dataclass(frozen=True)
class Pushed:
    external_id: str
    section_id: str | None = None


class PartialPush(KbHttpError):
    """A push that failed after the article was created: its ids must be remembered, so
    the next push finishes it instead of creating a second one."""

    def __init__(self, error: KbHttpError, done: Pushed) -> None:
        super().__init__(error.message, error.status)
        self.done = done


def _id_of(data: dict[str, Any], envelope: str, what: str) -> str:
    inner = data.get(envelope)
    if not isinstance(inner, dict) or inner.get("id") in (None, ""):
        raise KbHttpError(f"{what}: the answer has no {envelope}.id")
    return str(inner["id"])


def push_hudu(
    client: httpx.Client,
    conn: Connection,
    *,
    title: str,
    html: str,
    existing: Pushed | None,
    sleep: Sleep,
) -> Pushed:
    headers = {"x-api-key": conn.api_key, "Accept": "application/json"}
    article: dict[str, Any] = {"name": title, "content": html}
    if conn.company_id:
        article["company_id"] = int(conn.company_id)
    if conn.folder_id:
        article["folder_id"] = int(conn.folder_id)
    base = conn.url.rstrip("/") + "/api/v1/articles"
    if existing is not None:
        try:
            data = call(
                client,
                "PUT",
                f"{base}/{existing.external_id}",
                headers=headers,
                body={"article": article},
                sleep=sleep,
                what=f"Hudu PUT article {existing.external_id}",
            )
            return Pushed(_id_of(data, "article", "Hudu PUT article"))
        except KbHttpError as exc:
            if exc.status != 404:
                raise
            # Deleted in Hudu since the last push: make it again rather than fail forever.
    data = call(
        client,
        "POST",
        base,
        headers=headers,
        body={"article": article},
        sleep=sleep,
        what="Hudu POST article",
    )
    return Pushed(_id_of(data, "article", "Hudu POST article"))


def push_itglue(
    client: httpx.Client,
    conn: Connection,
    *,
    title: str,
    html: str,
    existing: Pushed | None,
    sleep: Sleep,
) -> Pushed:
    headers = {"x-api-key": conn.api_key, "Content-Type": JSON_API, "Accept": JSON_API}
    base = conn.url.rstrip("/")
    doc_id = existing.external_id if existing else None
    section_id = existing.section_id if existing else None
    try:
        if doc_id is not None and not _patched(
            client,
            f"{base}/documents/{doc_id}",
            headers,
            {"data": {"type": "documents", "attributes": {"name": title}}},
            sleep,
            f"IT Glue PATCH document {doc_id}",
        ):
            # Deleted in IT Glue since the last push: make it again.
            doc_id = section_id = None
        if doc_id is None:
            attributes: dict[str, Any] = {"name": title}
            if conn.folder_id:
                attributes["document-folder-id"] = int(conn.folder_id)
            data = call(
                client,
                "POST",
                f"{base}/organizations/{conn.organization_id}/relationships/documents",
                headers=headers,
                body={"data": {"type": "documents", "attributes": attributes}},
                sleep=sleep,
                what="IT Glue POST document",
            )
            doc_id = _id_of(data, "data", "IT Glue POST document")
        if section_id is not None and not _patched(
            client,
            f"{base}/documents/{doc_id}/relationships/sections/{section_id}",
            headers,
            {"data": {"type": "document-sections", "attributes": {"content": html}}},
            sleep,
            f"IT Glue PATCH section {section_id} of document {doc_id}",
        ):
            section_id = None
        if section_id is None:
            data = call(
                client,
                "POST",
                f"{base}/documents/{doc_id}/relationships/sections",
                headers=headers,
                body={
                    "data": {
                        "type": "document-sections",
                        "attributes": {"resource-type": "Document::Text", "content": html},
                    }
                },
                sleep=sleep,
                what=f"IT Glue POST section of document {doc_id}",
            )
            section_id = _id_of(data, "data", "IT Glue POST section")
        call(
            client,
            "PATCH",
            f"{base}/documents/{doc_id}/publish",
            headers=headers,
            body=None,
            sleep=sleep,
            what=f"IT Glue PATCH publish document {doc_id}",
        )
    except KbHttpError as exc:
        if doc_id is None:
            raise
        raise PartialPush(exc, Pushed(doc_id, section_id)) from None
    return Pushed(doc_id, section_id)


def _patched(
    client: httpx.Client,
    url: str,
    headers: dict[str, str],
    body: dict[str, Any],
    sleep: Sleep,
    what: str,
) -> bool:
    """PATCH; True when it went through, False when the thing is not there any more (404)."""
    try:
        call(client, "PATCH", url, headers=headers, body=body, sleep=sleep, what=what)
    except KbHttpError as exc:
        if exc.status == 404:
            return False
        raise
    return True
