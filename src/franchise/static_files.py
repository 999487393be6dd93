"""The files under franchise/static/ and their cache-busting URLs, shared by the pages and
the API reference (which must not depend on the web pages' package)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"


@cache
def static_url(path: str) -> str:
    """A URL with a content hash, so browsers may cache static files and still see updates."""
    digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:10]
    return f"/static/{path}?v={digest}"
