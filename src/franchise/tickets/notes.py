"""Internal notes: text, minutes worked and attached files.

A file's type is judged by its first bytes (never by its name or the uploader's header) against
a short allow-list; its bytes are written under FRANCHISE_HOME/attachments with a random name,
and only after every file of the note passed, so a refused upload stores nothing.

A file is first written under a hidden pending name and takes its real name only once the
unit of work that records it has committed (franchise.db.after_commit); if that work, or the
savepoint the note was added in, rolls back, the pending file is deleted. So a failed commit
leaves no file that no row names.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, SessionTransaction

from franchise.accounts.models import Staff
from franchise.db import Database, after_commit
from franchise.errors import InvalidInput, NotFound
from franchise.settings import Settings
from franchise.tickets.models import NoteAttachment, Ticket, TicketEvent
from franchise.tickets.service import add_note

MAX_NOTE = 10_000
MAX_MINUTES = 24 * 60
MAX_FILES = 10
DEFAULT_MAX_BYTES = 10_485_760
FOLDER = "attachments"
# What a note may carry, told apart by the file's first bytes.
ALLOWED = "PNG, JPEG, GIF or WebP images, PDF, ZIP (also .docx, .xlsx) or plain text"


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class AttachmentStore:
    """Where note attachments live and how large one may be."""

    folder: Path
    max_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> AttachmentStore:
        return cls(settings.home / FOLDER, settings.attachment_max_bytes)

    def path(self, stored_name: str) -> Path:
        return self.folder / stored_name

    def pending(self, stored_name: str) -> Path:
        """Where a file waits until the transaction that records it has committed."""
        return self.folder / f".{stored_name}.pending"

    def write(self, data: bytes) -> str:
        """Write the bytes, whole or not at all, under a fresh random name's pending path;
        `publish` gives the file its name, `discard` drops it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = secrets.token_hex(16)
        partial = self.folder / f".{name}.partial"
        try:
            with partial.open("xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, self.pending(name))
        finally:
            partial.unlink(missing_ok=True)
        return name

    def publish(self, stored_name: str) -> None:
        # A file discarded by a rolled-back savepoint is not there to publish.
        if self.pending(stored_name).exists():
            os.replace(self.pending(stored_name), self.path(stored_name))

    def discard(self, stored_name: str) -> None:
        self.pending(stored_name).unlink(missing_ok=True)

    def stage(self, session: Session, data: bytes) -> str:
        """Write the bytes for a row added in `session`: named once its unit of work commits,
        deleted if the transaction they were written in (or one around it) rolls back."""
        name = self.write(data)
        written_in = session.get_nested_transaction() or session.get_transaction()

        def discard_if_undone(_session: Session, undone: SessionTransaction) -> None:
            level = written_in
            while level is not None:
                if level is undone:
                    self.discard(name)
                    return
                level = level.parent

        def publish(_db: Database) -> None:
            self.publish(name)

        event.listen(session, "after_soft_rollback", discard_if_undone)
        after_commit(session, publish)
        return name


def sniff(data: bytes) -> str | None:
    """The content type the bytes really hold, if it is one a note may carry. Pure."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "application/zip"
    if b"\x00" in data:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain"


def clean_filename(name: str) -> str:
    """The uploader's file name without folders or control characters. Pure."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip().strip(".")
    return base[-255:] or "attachment"


def check_upload(upload: Upload, max_bytes: int) -> str:
    """The file's content type, or a refusal naming the file and the reason. Pure."""
    name = clean_filename(upload.filename)
    if not upload.data:
        raise InvalidInput(f"attachment '{name}' is empty")
    if len(upload.data) > max_bytes:
        raise InvalidInput(
            f"attachment '{name}' is {len(upload.data):,} bytes; the limit is {max_bytes:,} "
            "(FRANCHISE_ATTACHMENT_MAX_BYTES)"
        )
    kind = sniff(upload.data)
    if kind is None:
        raise InvalidInput(
            f"attachment '{name}' is not a file type notes accept (its content is not {ALLOWED})"
        )
    return kind


def check_minutes(minutes: int | None) -> int | None:
    if minutes is None or minutes == 0:
        return None
    if not 0 < minutes <= MAX_MINUTES:
        raise InvalidInput(f"minutes worked must be between 0 and {MAX_MINUTES}, got {minutes}")
    return minutes


def add_internal_note(
    session: Session,
    ticket: Ticket,
    text: str,
    *,
    by: Staff | None,
    minutes: int | None = None,
    uploads: Sequence[Upload] = (),
    store: AttachmentStore | None = None,
) -> TicketEvent:
    """An internal note on the ticket (root cause, what was tried); never sent to the client.
    Every file is checked before any is written: one bad file refuses the whole note."""
    body = text.strip()
    minutes = check_minutes(minutes)
    if len(body) > MAX_NOTE:
        raise InvalidInput(f"the note is {len(body)} characters; the limit is {MAX_NOTE}")
    if len(uploads) > MAX_FILES:
        raise InvalidInput(f"a note carries at most {MAX_FILES} files, got {len(uploads)}")
    if uploads and store is None:
        raise InvalidInput("attachments need somewhere to be stored")
    if not body and not uploads:
        raise InvalidInput("the note is empty")
    kinds = [check_upload(u, store.max_bytes) for u in uploads] if store else []
    if not body:
        body = "Attached " + ", ".join(clean_filename(u.filename) for u in uploads)
    event = add_note(session, ticket, actor=by, kind="note", note=body)
    event.minutes = minutes
    session.flush()
    for upload, kind in zip(uploads, kinds, strict=True):
        assert store is not None
        session.add(
            NoteAttachment(
                ticket_id=ticket.id,
                event_id=event.id,
                filename=clean_filename(upload.filename),
                content_type=kind,
                size=len(upload.data),
                sha256=hashlib.sha256(upload.data).hexdigest(),
                stored_name=store.stage(session, upload.data),
            )
        )
    session.flush()
    return event


def minutes_worked(session: Session, ticket: Ticket) -> int:
    total = session.scalar(
        select(func.sum(TicketEvent.minutes)).where(TicketEvent.ticket_id == ticket.id)
    )
    return int(total or 0)


def attachments(session: Session, ticket: Ticket) -> list[NoteAttachment]:
    return list(
        session.scalars(
            select(NoteAttachment)
            .where(NoteAttachment.ticket_id == ticket.id)
            .order_by(NoteAttachment.id)
        )
    )


def get_attachment(session: Session, ticket: Ticket, attachment_id: int) -> NoteAttachment:
    row = session.get(NoteAttachment, attachment_id)
    if row is None or row.ticket_id != ticket.id:
        raise NotFound(f"ticket #{ticket.id} has no attachment {attachment_id}")
    return row


def attachment_dict(row: NoteAttachment) -> dict[str, object]:
    return {
        "id": row.id,
        "note_id": row.event_id,
        "filename": row.filename,
        "content_type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
        "url": f"/api/v1/tickets/{row.ticket_id}/attachments/{row.id}",
    }
