"""Serving stored files and reading uploaded ones, for API and pages alike.

A stored file always goes out as a download: never rendered inline, never sniffed into
something runnable by the browser, and under a CSP that lets it do nothing if it were.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile

from franchise.errors import NotFound
from franchise.tickets.notes import Upload

DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def download(path: Path, filename: str, content_type: str) -> FileResponse:
    if not path.is_file():
        raise NotFound(f"the file of attachment '{filename}' is missing from {path.parent}")
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    media = "text/plain; charset=utf-8" if content_type == "text/plain" else content_type
    headers = {**DOWNLOAD_HEADERS, "Content-Disposition": disposition}
    return FileResponse(path, media_type=media, headers=headers)


def read_uploads(parts: list[UploadFile | str], max_bytes: int) -> list[Upload]:
    """The files of a multipart form, each read up to one byte past the limit (enough to
    refuse it by name). A file input left empty sends a nameless empty part: skipped."""
    uploads = []
    for part in parts:
        if isinstance(part, str) or (not part.filename and not part.size):
            continue
        data = part.file.read(max_bytes + 1)
        uploads.append(Upload(part.filename or "attachment", data))
    return uploads
