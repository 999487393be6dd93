"""The demo team's notifications, as the hand-offs of the last days would have left them in
My notifications: escalations to whoever holds the ticket, the owner's answers to those
who asked, and the asks still waiting for the owner. The demo writes its history directly
(not through the flows, which would stamp everything "now"), so the notices it would have
sent are written here, with the time of the hand-off, and read when their person has
clearly dealt with them since.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.ask.models import AskReply
from franchise.ask.reply import open_asks
from franchise.contacts.models import OwnerContact
from franchise.demo.records import DemoPlan
from franchise.people import feed
from franchise.people.cards import Notice
from franchise.people.notices import escalated_notice, owner_replied_notice, ticket_fact
from franchise.tickets.models import Ticket

# Still unread: what happened in the last day, and every ask the owner has not answered.
UNREAD_FOR = timedelta(days=1)
# The owner's answers worth a notice: the latest few, as the feed keeps the recent past.
RECENT_REPLIES = 6


def write_notices(
    session: Session,
    plan: DemoPlan,
    tickets: list[Ticket],
    staff: dict[str, Staff],
    contacts: list[OwnerContact],
    replies: list[AskReply],
) -> int:
    by_id = {s.id: s for s in staff.values()}
    written = 0

    def put(person: Staff, notice: Notice, ticket_id: int | None, link: str, at: datetime) -> None:
        nonlocal written
        row = feed.record(session, person.id, notice, ticket_id=ticket_id, link=link)
        row.created_at = at
        row.read_at = None if plan.now - at < UNREAD_FOR else at + timedelta(hours=1)
        written += 1

    for item, ticket in zip(plan.tickets, tickets, strict=True):
        if item.resolved_at is not None:
            continue
        # Escalated, then picked up at the next level: the holder was told at the escalation.
        raised = None
        for change in item.changes:
            if change.status == "escalated" and change.actor:
                raised = change
            elif raised is not None and change.assignee and raised.actor:
                holder, by = staff[change.assignee], staff[raised.actor]
                notice = escalated_notice(ticket, by, raised.level or holder.level)
                put(holder, notice, ticket.id, feed.ticket_link(ticket.id), raised.at)
                raised = None

    by_contact = {c.id: c for c in contacts}
    for reply in sorted(replies, key=lambda r: r.replied_at)[-RECENT_REPLIES:]:
        contact = by_contact[reply.contact_id]
        asker = by_id.get(contact.staff_id or 0)
        if asker is not None and asker.level != "owner":
            notice = owner_replied_notice(session, contact, reply.text)
            put(
                asker,
                notice,
                contact.ticket_id,
                feed.ticket_link(contact.ticket_id),
                reply.replied_at,
            )

    owner = staff["owner"]
    session.flush()  # the replies, so the asks still open are those the dashboard shows
    for ask in open_asks(session):
        found = by_contact.get(ask.id)
        asker = by_id.get(found.staff_id or 0) if found is not None else None
        if found is None or asker is None:
            continue
        notice = Notice(
            title=f"{asker.name} ({asker.level}) asks about ticket #{ask.ticket_id}",
            text=ask.question,
            facts=(
                ("Asked by", f"{asker.name} ({asker.level})"),
                *ticket_fact(session, ask.ticket_id),
            ),
        )
        row = feed.record(
            session, owner.id, notice, ticket_id=ask.ticket_id, link=feed.ask_link(ask.id)
        )
        row.created_at = ask.at  # unread until answered, however old
        written += 1
    return written
