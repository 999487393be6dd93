"""Polling an IMAP mailbox (stdlib imaplib): each new message handled exactly once.

A message is new when its UID is above the highest one recorded for the folder's
UIDVALIDITY; that, not the \\Seen flag, is what prevents double imports, because a person
reading the mailbox in a mail client also sets \\Seen. After a message is stored it is
flagged \\Seen as a courtesy to that person. Each message has its own transaction, so one
that fails is recorded as an error and the rest still arrive; it stays unread in the
mailbox for a person to look at.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from franchise.db import Database
from franchise.errors import FranchiseError
from franchise.mailin.config import MailboxConfig
from franchise.mailin.models import MailMessage
from franchise.mailin.parse import parse_mail
from franchise.mailin.service import Handled, handle_mail

TIMEOUT_SECONDS = 30
BATCH_LIMIT = 200


class MailboxUnavailable(FranchiseError):
    """The mailbox cannot be reached, logged in to or opened."""

    code = "mailbox_unavailable"
    status = 502


@dataclass
class PollReport:
    mailbox: str
    fetched: int = 0
    tickets: list[int] = field(default_factory=list)
    replies: list[int] = field(default_factory=list)
    duplicates: int = 0
    ignored: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mailbox": self.mailbox,
            "fetched": self.fetched,
            "tickets": self.tickets,
            "replies": self.replies,
            "duplicates": self.duplicates,
            "ignored": self.ignored,
            "errors": self.errors,
        }


def poll_mailbox(db: Database, config: MailboxConfig, *, limit: int = BATCH_LIMIT) -> PollReport:
    """Fetch messages not handled yet (oldest first, at most `limit`) and handle each."""
    report = PollReport(mailbox=config.name)
    with connect(config) as imap:
        uidvalidity = _select(imap, config)
        with db.unit_of_work() as session:
            last = session.scalar(
                select(func.max(MailMessage.uid)).where(
                    MailMessage.mailbox == config.name, MailMessage.uidvalidity == uidvalidity
                )
            )
        for uid in _new_uids(imap, last or 0)[:limit]:
            raw = _fetch(imap, uid)
            report.fetched += 1
            handled = _handle(db, config, uidvalidity, uid, raw, report)
            if handled is not None and handled.outcome != "error":
                _check(imap.uid("STORE", str(uid), "+FLAGS", "(\\Seen)"), "flag as seen")
    return report


def _handle(
    db: Database,
    config: MailboxConfig,
    uidvalidity: int,
    uid: int,
    raw: bytes,
    report: PollReport,
) -> Handled | None:
    fallback = f"<uid-{uidvalidity}-{uid}@{config.host}>"
    mail = parse_mail(raw, fallback_id=fallback)
    record = {
        "mailbox": config.name,
        "uidvalidity": uidvalidity,
        "uid": uid,
        "message_id": mail.message_id[:998],
        "sender": mail.sender[:320] or None,
        "subject": mail.subject,
    }
    try:
        with db.unit_of_work() as session:
            handled = handle_mail(session, mail, max_attachment_bytes=config.max_attachment_bytes)
            session.add(
                MailMessage(
                    **record,
                    ticket_id=handled.ticket_id,
                    outcome=handled.outcome,
                    detail=handled.detail,
                )
            )
    except (FranchiseError, SQLAlchemyError, ValueError) as exc:
        detail = exc.message if isinstance(exc, FranchiseError) else f"{type(exc).__name__}: {exc}"
        with db.unit_of_work() as session:
            session.add(MailMessage(**record, outcome="error", detail=detail[:2000]))
        report.errors.append({"uid": uid, "message_id": mail.message_id, "error": detail})
        return Handled("error", None, detail)
    if handled.outcome == "ticket":
        report.tickets.append(handled.ticket_id or 0)
    elif handled.outcome == "reply":
        report.replies.append(handled.ticket_id or 0)
    elif handled.outcome == "duplicate":
        report.duplicates += 1
    else:
        report.ignored += 1
    return handled


@contextmanager
def connect(config: MailboxConfig) -> Iterator[imaplib.IMAP4]:
    """A logged-in connection; every failure becomes MailboxUnavailable (no password shown)."""
    where = f"IMAP {config.host}:{config.port}"
    try:
        if config.tls == "ssl":
            imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                config.host,
                config.port,
                ssl_context=ssl.create_default_context(),
                timeout=TIMEOUT_SECONDS,
            )
        else:
            imap = imaplib.IMAP4(config.host, config.port, timeout=TIMEOUT_SECONDS)
            if config.tls == "starttls":
                imap.starttls(ssl.create_default_context())
        imap.login(config.user, config.password)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxUnavailable(f"{where}: {_reason(exc)}") from None
    try:
        yield imap
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxUnavailable(f"{where}: {_reason(exc)}") from None
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            imap.logout()


def _reason(exc: BaseException) -> str:
    text = exc.args[0] if exc.args else exc
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return str(text) or type(exc).__name__


def _check(result: tuple[str, Any], what: str) -> Any:
    status, data = result
    if status != "OK":
        raise imaplib.IMAP4.error(f"{what} failed: {data!r}")
    return data


def _select(imap: imaplib.IMAP4, config: MailboxConfig) -> int:
    """Open the folder read-write and return its UIDVALIDITY."""
    folder = config.folder
    quoted = folder if folder.startswith('"') else '"' + folder.replace('"', '\\"') + '"'
    _check(imap.select(quoted), f"open folder '{folder}'")
    _, values = imap.response("UIDVALIDITY")
    if not values or values[0] is None:
        status = _check(imap.status(quoted, "(UIDVALIDITY)"), "read UIDVALIDITY")
        values = re.findall(rb"UIDVALIDITY (\d+)", status[0] or b"")
    return int(values[0])


def _new_uids(imap: imaplib.IMAP4, last: int) -> list[int]:
    data = _check(imap.uid("SEARCH", f"UID {last + 1}:*"), "search")
    # "N:*" always matches the newest message, even when its UID is below N.
    uids = sorted(int(u) for u in (data[0] or b"").split())
    return [u for u in uids if u > last]


def _fetch(imap: imaplib.IMAP4, uid: int) -> bytes:
    # BODY.PEEK leaves \Seen alone until the message is safely stored.
    data = _check(imap.uid("FETCH", str(uid), "(BODY.PEEK[])"), f"fetch UID {uid}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    raise imaplib.IMAP4.error(f"fetch UID {uid}: no message body in the answer")
