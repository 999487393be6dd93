"""Reading an e-mail: who sent it, the ticket it refers to, its text and its files. Pure."""

from __future__ import annotations

import email
import email.policy
import hashlib
import html
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

# Our message templates put "[#123]" in every subject, so a reply keeps it.
TICKET_REF = re.compile(r"\[#(\d{1,9})\]")
MAX_EXTERNAL_ID = 200
MAX_TITLE = 500
# Where a mail client starts quoting the message being answered.
_QUOTE_STARTS = (
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^On .{4,300} wrote:\s*$", re.IGNORECASE),
    re.compile(r"^_{10,}\s*$"),
    re.compile(r"^From:\s.+$"),
)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class IncomingMail:
    message_id: str
    sender: str
    sender_name: str
    subject: str
    text: str
    ticket_ref: int | None
    # Message-IDs this mail answers (In-Reply-To, References), newest first.
    answers: tuple[str, ...] = ()
    automatic: bool = False
    attachments: tuple[Attachment, ...] = field(default=())

    @property
    def external_id(self) -> str:
        """The ticket's external id: the Message-ID, hashed when it is too long to store."""
        if len(self.message_id) <= MAX_EXTERNAL_ID:
            return self.message_id
        return "sha256:" + hashlib.sha256(self.message_id.encode()).hexdigest()


def parse_mail(raw: bytes, *, fallback_id: str) -> IncomingMail:
    """Parse raw RFC 5322 bytes; `fallback_id` stands in for a missing Message-ID."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    name, address = parseaddr(str(message.get("From", "")))
    subject = " ".join(str(message.get("Subject", "")).split())
    ref = TICKET_REF.search(subject)
    answers = [
        addr for _, addr in getaddresses([str(message.get("In-Reply-To", ""))]) if addr
    ] + list(reversed(re.findall(r"<[^<>\s]+>", str(message.get("References", "")))))
    return IncomingMail(
        message_id=str(message.get("Message-ID", "")).strip() or fallback_id,
        sender=address.strip().lower(),
        sender_name=name.strip(),
        subject=subject,
        text=body_text(message),
        ticket_ref=int(ref.group(1)) if ref else None,
        answers=tuple(_bracketed(a) for a in answers),
        automatic=_is_automatic(message, address),
        attachments=tuple(_attachments(message)),
    )


def _bracketed(message_id: str) -> str:
    text = message_id.strip()
    return text if text.startswith("<") else f"<{text}>"


def _is_automatic(message: EmailMessage, address: str) -> bool:
    """Out-of-office replies, bounces and list mail (RFC 3834 and common practice)."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    local = address.split("@", 1)[0].lower()
    return (
        auto not in ("", "no")
        or precedence in ("bulk", "junk", "list", "auto_reply")
        or local in ("mailer-daemon", "postmaster")
        or "X-Autoreply" in message
    )


def body_text(message: EmailMessage) -> str:
    """The plain-text part, or the HTML part turned into text; '' when there is none."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _decoded(part)
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return text.replace("\r\n", "\n").strip()


def _decoded(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, UnicodeError):
        # An unknown or wrong charset: keep what can be read rather than lose the message.
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def _attachments(message: EmailMessage) -> list[Attachment]:
    found = []
    body = message.get_body(preferencelist=("plain", "html"))
    for part in message.walk():
        if part.is_multipart() or part is body:
            continue
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        if disposition != "attachment" and not (disposition == "inline" and filename):
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        found.append(
            Attachment(
                filename=clean_filename(filename or "attachment"),
                content_type=part.get_content_type()[:255],
                data=data,
            )
        )
    return found


def clean_filename(name: str) -> str:
    """A bare file name: no folders, no control characters, at most 255 characters."""
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return (base or "attachment")[-255:]


def strip_quoted(text: str) -> str:
    """The new part of a reply: stop where the client starts quoting the earlier mail."""
    kept: list[str] = []
    for line in text.splitlines():
        if any(p.match(line.strip()) for p in _QUOTE_STARTS):
            break
        kept.append(line)
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    new = "\n".join(line for line in kept if not line.lstrip().startswith(">")).strip()
    # A reply that is all quote (or top-quoted oddly) keeps its full text rather than nothing.
    return new or text.strip()


class _TextOnly(HTMLParser):
    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextOnly()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in html.unescape("".join(parser.parts)).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
