"""My notifications in the app: every notification a person was sent, newest first, with
an unread count on the navigation's link.

E-mail, Teams and Slack are where people already are, but a technician may have none of
them set up, and a chat message scrolls away. The feed is the record that always exists:
each notification is written here in the same transaction as the hand-off it reports.

A notice is read when its person opens it, marks everything read, or opens the page it
points to (its link's path); a notice about something settled meanwhile (an approval
someone else decided, an ask already answered) is read for everyone it went to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from franchise.db import utcnow
from franchise.errors import NotFound
from franchise.people.cards import Notice
from franchise.people.models import StaffNotice

# Read notices older than this are deleted when the person gets a new one: the feed is for
# what is going on, the ticket history keeps the record.
KEEP_READ = timedelta(days=90)
PAGE = 50
MAX_TEXT = 2000
MAX_FACT = 300


def record(
    session: Session, staff_id: int, notice: Notice, *, ticket_id: int | None, link: str
) -> StaffNotice:
    now = utcnow()
    session.execute(
        delete(StaffNotice).where(
            StaffNotice.staff_id == staff_id,
            StaffNotice.read_at.is_not(None),
            StaffNotice.created_at < now - KEEP_READ,
        )
    )
    row = StaffNotice(
        staff_id=staff_id,
        ticket_id=ticket_id,
        title=notice.title[:200],
        text=_short(notice.text, MAX_TEXT),
        facts=[_short(f"{name}: {value}", MAX_FACT) for name, value in notice.facts],
        link=link[:300],
        created_at=now,
    )
    session.add(row)
    return row


def ticket_link(ticket_id: int | None) -> str:
    return f"/tickets/{ticket_id}" if ticket_id is not None else "/me"


def ask_link(contact_id: int) -> str:
    return f"/dashboard#ask-{contact_id}"


def approval_link(request_id: int) -> str:
    return f"/approvals#approval-{request_id}"


def unread_count(session: Session, staff_id: int) -> int:
    found = session.scalar(
        select(func.count())
        .select_from(StaffNotice)
        .where(StaffNotice.staff_id == staff_id, StaffNotice.read_at.is_(None))
    )
    return int(found or 0)


@dataclass(frozen=True)
class NoticeView:
    id: int
    title: str
    text: str
    facts: tuple[str, ...]
    link: str
    created_at: datetime
    unread: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "facts": list(self.facts),
            "link": self.link,
            "created_at": self.created_at.isoformat(),
            "unread": self.unread,
        }


def latest(
    session: Session, staff_id: int, *, unread_only: bool = False, limit: int = PAGE
) -> list[NoticeView]:
    query = select(StaffNotice).where(StaffNotice.staff_id == staff_id)
    if unread_only:
        query = query.where(StaffNotice.read_at.is_(None))
    rows = session.scalars(
        query.order_by(StaffNotice.created_at.desc(), StaffNotice.id.desc()).limit(limit)
    )
    return [
        NoticeView(r.id, r.title, r.text, tuple(r.facts), r.link, r.created_at, r.read_at is None)
        for r in rows
    ]


def open_notice(session: Session, staff_id: int, notice_id: int) -> str:
    """Mark one of the person's notices read; returns where it points."""
    row = session.get(StaffNotice, notice_id)
    if row is None or row.staff_id != staff_id:
        raise NotFound(f"no notification #{notice_id} of yours")
    if row.read_at is None:
        row.read_at = utcnow()
    # Links are written by Franchise, but a redirect only ever goes to a page of its own.
    return row.link if row.link.startswith("/") and not row.link.startswith("//") else "/me"


def mark_all_read(session: Session, staff_id: int) -> int:
    done = session.execute(
        update(StaffNotice)
        .where(StaffNotice.staff_id == staff_id, StaffNotice.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return int(getattr(done, "rowcount", 0) or 0)


def read_where_shown(session: Session, staff_id: int, path: str) -> int:
    """The person opened `path`: their unread notices that point there are read."""
    done = session.execute(
        update(StaffNotice)
        .where(
            StaffNotice.staff_id == staff_id,
            StaffNotice.read_at.is_(None),
            or_(StaffNotice.link == path, StaffNotice.link.startswith(path + "#", autoescape=True)),
        )
        .values(read_at=utcnow())
    )
    return int(getattr(done, "rowcount", 0) or 0)


def settle(session: Session, link: str) -> None:
    """What `link` points to was dealt with (decided, answered): nobody needs to act on
    its notices any more."""
    session.execute(
        update(StaffNotice)
        .where(StaffNotice.link == link, StaffNotice.read_at.is_(None))
        .values(read_at=utcnow())
    )


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
