"""Delivery settings kept in the database: SMTP for client e-mail and the owner's Apprise URLs.

They live in the same key/value table as the organisation settings, under their own keys
(get_config ignores them), so an owner can set them on the Settings page instead of in the
environment. A stored value wins over the environment, which wins over the default
(sources.py shows each value in force and where it comes from); clearing a stored value
brings the environment's back. The SMTP password and the notification URLs (which carry
tokens) are secrets: they are stored sealed (sealing.py), and only `effective_settings`
(which the sending code calls) and `stored_delivery_values` (which sources.py reduces to
"set" / "not set") return them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from franchise.addresses import EMAIL
from franchise.db import utcnow
from franchise.errors import InvalidInput
from franchise.orgsettings.models import OrgSetting
from franchise.orgsettings.sealing import Unsealable, key_source, seal, unseal
from franchise.settings import Settings

log = logging.getLogger(__name__)

TLS_MODES = ("none", "starttls", "ssl")
SECRET_KEYS = ("smtp_password", "notify_urls", "slack_signing_secret")
DELIVERY_KEYS = (
    "smtp_host",
    "smtp_port",
    "smtp_user",
    "smtp_tls",
    "smtp_from",
    "public_url",
    *SECRET_KEYS,
)
# The stored SMTP password belongs to one server, account and way of connecting: when any
# of these changes it is cleared, so it is never sent to a host it was not typed for.
PASSWORD_BOUND_KEYS = ("smtp_host", "smtp_port", "smtp_user", "smtp_tls")
MAX_URLS_TEXT = 4000
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_URL_SPLIT = re.compile(r"[\s,]+")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]{0,31}://\S+$")


def _fail(key: str, form: str) -> InvalidInput:
    # Never echo what was typed: for the secret keys it is the secret.
    return InvalidInput(f"setting '{key}' is not valid; use {form}")


def _host(raw: str) -> str:
    text = raw.strip()
    if not _HOST.match(text) or ".." in text:
        raise _fail("smtp_host", "a host name or IP address such as smtp.example.com")
    return text


def _port(raw: str) -> int:
    text = raw.strip()
    if not text.isdecimal() or not 0 < int(text) < 65536:
        raise _fail("smtp_port", "a port number from 1 to 65535 (587 for STARTTLS, 465 for SSL)")
    return int(text)


def _user(raw: str) -> str:
    text = raw.strip()
    if len(text) > 320 or any(ord(c) < 32 for c in text):
        raise _fail("smtp_user", "a user name of at most 320 characters")
    return text


def _password(raw: str) -> str:
    if len(raw) > 500 or any(c in raw for c in "\r\n\0"):
        raise _fail("smtp_password", "a password of at most 500 characters on one line")
    return raw


def _tls(raw: str) -> str:
    text = raw.strip().lower()
    if text not in TLS_MODES:
        raise _fail("smtp_tls", "none, starttls or ssl")
    return text


def _sender(raw: str) -> str:
    text = raw.strip()
    if len(text) > 320 or "\n" in text or not EMAIL.match(parseaddr(text)[1]):
        raise _fail("smtp_from", "a sender such as 'Acme IT Support <help@acme.example>'")
    return text


def _urls(raw: str) -> str:
    urls = [u for u in _URL_SPLIT.split(raw.strip()) if u]
    if len(raw) > MAX_URLS_TEXT:
        raise _fail("notify_urls", f"at most {MAX_URLS_TEXT} characters of URLs")
    for n, url in enumerate(urls, 1):
        if not _SCHEME.match(url):
            raise _fail(
                "notify_urls",
                f"Apprise URLs such as mailto://... or tgram://..., separated by spaces or "
                f"new lines (URL {n} has no scheme://)",
            )
    return " ".join(urls)


def _public_url(raw: str) -> str:
    text = raw.strip().rstrip("/")
    if not re.match(r"^https?://[^\s/?#]+(?:/[^\s?#]*)?$", text) or len(text) > 500:
        raise _fail(
            "public_url",
            "the address people open Franchise at, e.g. https://franchise.acme.example",
        )
    return text


def _signing_secret(raw: str) -> str:
    text = raw.strip()
    if not re.match(r"^[A-Za-z0-9]{16,128}$", text):
        raise _fail(
            "slack_signing_secret",
            "the Signing Secret from your Slack app's Basic Information page (letters and digits)",
        )
    return text


PARSERS = {
    "smtp_host": _host,
    "smtp_port": _port,
    "smtp_user": _user,
    "smtp_password": _password,
    "smtp_tls": _tls,
    "smtp_from": _sender,
    "notify_urls": _urls,
    "public_url": _public_url,
    "slack_signing_secret": _signing_secret,
}


def parse_delivery_value(key: str, raw: str) -> Any:
    """The stored form of one delivery setting, or InvalidInput naming the key (not the value)."""
    parser = PARSERS.get(key)
    if parser is None:
        raise InvalidInput(f"unknown delivery setting '{key}' (use {', '.join(DELIVERY_KEYS)})")
    return parser(raw)


def stored_delivery_values(session: Session, settings: Settings) -> dict[str, Any]:
    """Stored delivery values by key; a sealed one this server cannot open is Unsealable."""
    stored: dict[str, Any] = {}
    for row in session.scalars(select(OrgSetting).where(OrgSetting.key.in_(DELIVERY_KEYS))):
        value = row.value or {}
        if "sealed" in value:
            try:
                stored[row.key] = unseal(settings, str(value["sealed"]))
            except Unsealable as exc:
                stored[row.key] = exc
        else:  # plain values, and secrets saved before sealing (sealed when next saved)
            stored[row.key] = value.get("value")
    return stored


def set_delivery_setting(session: Session, key: str, raw: str, settings: Settings) -> None:
    """Validate and store one delivery setting; an empty value clears it (the env applies)."""
    if not raw.strip():
        _forget_password_if_changed(session, key, None, settings)
        clear_delivery_setting(session, key)
        return
    value = parse_delivery_value(key, raw)
    _forget_password_if_changed(session, key, value, settings)
    stored = {"sealed": seal(settings, value)} if key in SECRET_KEYS else {"value": value}
    row = session.get(OrgSetting, key)
    if row is None:
        session.add(OrgSetting(key=key, value=stored, updated_at=utcnow()))
    else:
        row.value = stored
        row.updated_at = utcnow()
    session.flush()


def _forget_password_if_changed(session: Session, key: str, new: Any, settings: Settings) -> None:
    """Clear the stored SMTP password if `key` is about to change the value in force
    (`new` None: back to the environment's)."""
    if key not in PASSWORD_BOUND_KEYS:
        return
    row = session.get(OrgSetting, key)
    env_value = getattr(settings, key)
    old = (row.value or {}).get("value") if row is not None else env_value
    if (env_value if new is None else new) != old:
        session.execute(delete(OrgSetting).where(OrgSetting.key == "smtp_password"))


def clear_delivery_setting(session: Session, key: str) -> None:
    if key not in DELIVERY_KEYS:
        raise InvalidInput(f"unknown delivery setting '{key}' (use {', '.join(DELIVERY_KEYS)})")
    session.execute(delete(OrgSetting).where(OrgSetting.key == key))
    session.flush()


@dataclass(frozen=True)
class SecretState:
    """What the Settings page may say about a secret: whether it is set, and where from."""

    source: str  # "stored" | "environment" | "unreadable" | "" (not set)
    detail: str = ""  # e.g. "2 URLs: mailto, tgram" (schemes only, never the URLs)

    @property
    def is_set(self) -> bool:
        return bool(self.source)


def _url_detail(text: str) -> str:
    urls = [u for u in _URL_SPLIT.split(text.strip()) if u]
    schemes = sorted({u.split("://", 1)[0].lower() for u in urls if "://" in u})
    return f"{len(urls)} URL{'s' if len(urls) != 1 else ''}: {', '.join(schemes)}"


def delivery_overview(session: Session, settings: Settings) -> dict[str, Any]:
    """For the Settings page: stored plain values, environment fallbacks, and secret states."""
    stored = stored_delivery_values(session, settings)
    plain = {k: stored.get(k) for k in DELIVERY_KEYS if k not in SECRET_KEYS}
    env = {
        "smtp_host": settings.smtp_host,
        "smtp_port": settings.smtp_port,
        "smtp_user": settings.smtp_user,
        "smtp_tls": settings.smtp_tls,
        "smtp_from": settings.smtp_from,
        "public_url": settings.public_url,
    }
    secrets: dict[str, SecretState] = {}
    for key in SECRET_KEYS:
        env_value = str(getattr(settings, key))
        value = stored.get(key) or ""
        if isinstance(value, Unsealable):
            secrets[key] = SecretState("unreadable", f"{value}; enter it again")
            continue
        source = "stored" if value else "environment" if env_value else ""
        shown = value or env_value
        detail = _url_detail(shown) if key == "notify_urls" and shown else ""
        secrets[key] = SecretState(source, detail)
    return {"stored": plain, "env": env, "secrets": secrets}


def effective_settings(session: Session, settings: Settings) -> Settings:
    """`settings` with the delivery values stored in the database laid over it.

    Call it where mail or notifications are sent, so a change on the Settings page takes
    effect without a restart. A stored value that no longer validates is skipped (the
    environment value stays) and logged, so a bad row cannot stop an owner notification.
    """
    update: dict[str, Any] = {}
    for key, value in stored_delivery_values(session, settings).items():
        if isinstance(value, Unsealable):
            log.warning("ignoring stored %s: %s (%s)", key, value, key_source(settings))
            continue
        try:
            update[key] = parse_delivery_value(key, str(value))
        except InvalidInput as exc:
            log.warning("ignoring stored %s", exc.message)
    return settings.model_copy(update=update) if update else settings
