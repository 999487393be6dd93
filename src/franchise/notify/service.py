"""Send a notification to the owner through every Apprise URL in FRANCHISE_NOTIFY_URLS.

A failed notification never raises: it returns a `Delivery` that says what went wrong. It
is called by the outbox after the commit (notify/outbound.py), never inside a transaction.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from franchise.notify.addresses import private_target
from franchise.settings import Settings

_SPLIT = re.compile(r"[\s,]+")
MAX_ERROR = 500


@dataclass(frozen=True)
class Delivery:
    targets: int
    sent: bool
    error: str | None = None


def notify_urls(settings: Settings) -> list[str]:
    """The configured URLs, separated by spaces or commas."""
    return [u for u in _SPLIT.split(settings.notify_urls.strip()) if u]


# Read by technicians in a ticket's history: where to fix it, in the page's terms first.
NOT_SET_UP = (
    "no owner notification is set up (Settings page, or FRANCHISE_NOTIFY_URLS), so the "
    "owner was not notified this way"
)


def _scheme(url: str) -> str:
    # Never echo a whole URL: Apprise URLs carry tokens and passwords.
    return url.split("://", 1)[0] if "://" in url else "?"


def notify_owner(settings: Settings, *, title: str, body: str, emergency: bool = False) -> Delivery:
    """Send to every configured URL; sent is True only when every service accepted it."""
    urls = notify_urls(settings)
    if not urls:
        return Delivery(0, False, NOT_SET_UP)
    # Imported here: Apprise loads its plugins on import, which `franchise --help` never needs.
    import apprise

    sender = apprise.Apprise()
    rejected = []
    for n, url in enumerate(urls, 1):
        internal = None if settings.notify_allow_private else private_target(url)
        if internal:
            rejected.append(
                f"URL {n} refused: {internal} (set FRANCHISE_NOTIFY_ALLOW_PRIVATE=true to allow)"
            )
        elif not sender.add(url):
            rejected.append(
                f"URL {n} ({_scheme(url)}://...) is not a notification URL Apprise knows"
            )
    if len(rejected) == len(urls):
        return Delivery(len(urls), False, "; ".join(rejected)[:MAX_ERROR])
    kind = apprise.NotifyType.FAILURE if emergency else apprise.NotifyType.WARNING
    try:
        with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
            ok = bool(sender.notify(body=body, title=title, notify_type=kind))
            logs = captured.getvalue()
    except Exception as exc:  # a broken plugin must not lose the record of the ask
        return Delivery(len(urls), False, f"notification raised {type(exc).__name__}: {exc}")
    problems = [*rejected]
    if not ok:
        problems.append(_last_lines(logs) or "a notification service refused it")
    if problems:
        return Delivery(len(urls), False, "; ".join(problems)[:MAX_ERROR])
    return Delivery(len(urls), True)


def _last_lines(logs: str) -> str:
    lines = [line.split(" - ", 2)[-1].strip() for line in logs.splitlines() if line.strip()]
    return "; ".join(lines[-3:])
