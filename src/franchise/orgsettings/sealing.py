"""Secrets kept in the database are sealed with a key kept outside it.

A copy of the database (a backup, a dump sent along with a support question) must not carry
the SMTP password or the notification URLs' tokens in clear. They are stored as Fernet
tokens (AES-128-CBC with HMAC-SHA256: confidential and tamper-evident). The key comes from
FRANCHISE_SECRET_KEY when set (every server of one installation sets the same), otherwise
from `secret.key` in FRANCHISE_HOME, made on first use and readable by its owner only.
"""

from __future__ import annotations

import base64
import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from franchise.errors import InvalidInput
from franchise.settings import Settings

if TYPE_CHECKING:
    # Imported where a key is read or a value sealed or opened: cryptography adds about
    # 7 MB to a process, which a server that never touches a secret does without.
    from cryptography.fernet import Fernet

KEY_FILE = "secret.key"
MIN_KEY_CHARS = 32


class Unsealable(Exception):
    """A sealed value this key cannot open: sealed with another key, or altered."""


def key_source(settings: Settings) -> str:
    """Where the key comes from, for messages: never the key itself."""
    if settings.secret_key:
        return "FRANCHISE_SECRET_KEY"
    return str(settings.home / KEY_FILE)


def seal(settings: Settings, text: str) -> str:
    return _fernet(settings.secret_key, settings.home).encrypt(text.encode()).decode()


def unseal(settings: Settings, token: str) -> str:
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(settings.secret_key, settings.home).decrypt(token.encode()).decode()
    except InvalidToken:
        raise Unsealable(f"sealed with a key other than {key_source(settings)}") from None


@lru_cache(maxsize=8)
def _fernet(secret_key: str, home: Path) -> Fernet:
    from cryptography.fernet import Fernet

    if secret_key:
        return Fernet(_key_from_text(secret_key))
    return Fernet(_key_file(home / KEY_FILE))


def _key_from_text(text: str) -> bytes:
    """A Fernet key as generated, or any text of at least 32 characters (hashed to a key)."""
    from cryptography.fernet import Fernet

    try:
        Fernet(text.encode())
        return text.encode()
    except ValueError:
        pass
    if len(text) < MIN_KEY_CHARS:
        raise InvalidInput(
            f"FRANCHISE_SECRET_KEY: use at least {MIN_KEY_CHARS} random characters, e.g. the "
            "output of: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest())


def _key_file(path: Path) -> bytes:
    from cryptography.fernet import Fernet

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked into place: a second process starting at the same moment
        # either finds no file or a whole key, and only one key wins.
        aside = path.with_name(f".{KEY_FILE}.{os.getpid()}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(Fernet.generate_key() + b"\n")
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    key = path.read_bytes().strip()
    try:
        Fernet(key)
    except ValueError:
        raise InvalidInput(
            f"{path} is not a secret key (44 URL-safe base64 characters); restore it from "
            "your backup, or delete it and enter the stored passwords and URLs again"
        ) from None
    return key


def derived_key(settings: Settings, purpose: str) -> bytes:
    """A key for one purpose (signing action links ...) derived from the sealing key, so one
    secret protects the installation and a key for one use never serves another."""
    base = (
        _key_from_text(settings.secret_key)
        if settings.secret_key
        else _key_file(settings.home / KEY_FILE)
    )
    return hashlib.sha256(b"franchise:" + purpose.encode() + b":" + base).digest()
