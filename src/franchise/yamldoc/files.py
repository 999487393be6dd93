"""Reading a user's document file (kept free of the YAML parser, so the CLI starts fast)."""

from __future__ import annotations

from pathlib import Path

from franchise.errors import InvalidInput


def read_document(path: Path) -> str:
    """A document's text; an unreadable or non-UTF-8 file is the user's mistake, named."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the file: {exc.strerror}") from None
