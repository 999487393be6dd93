"""Which review a contact belongs to; its item is opened when the contact is logged.

Opening items with the contacts keeps reading a review (the dashboard, `GET` routes, the
CLI) free of writes: every contact that a review lists already has an item to dispose.
"""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.contacts.hours import week_start
from franchise.contacts.models import OwnerContact
from franchise.drills.models import REVIEWED_OUTCOMES, ReviewItem


def review_item_for(contact: OwnerContact, tz: ZoneInfo) -> ReviewItem | None:
    """The item a stored contact opens: in its drill's review, in the weekly review of its
    local week (interruptions outside drills), or none (deflections, refusals outside drills)."""
    if contact.drill_id is not None:
        if contact.outcome not in REVIEWED_OUTCOMES:
            return None
        week = None
    elif contact.outcome == "interruption":
        week = week_start(contact.occurred_at, tz).isoformat()
    else:
        return None
    return ReviewItem(
        drill_id=contact.drill_id,
        week_start=week,
        contact_id=contact.id,
        ticket_id=contact.ticket_id,
    )


def review_items_for(contacts: Iterable[OwnerContact], tz: ZoneInfo) -> list[ReviewItem]:
    return [item for c in contacts if (item := review_item_for(c, tz)) is not None]


def open_missing_items(session: Session, tz: ZoneInfo) -> int:
    """Open the items of stored contacts that have none (rows loaded in bulk, not logged)."""
    has_item = select(ReviewItem.id).where(ReviewItem.contact_id == OwnerContact.id).exists()
    contacts = session.scalars(
        select(OwnerContact)
        .where(OwnerContact.outcome.in_(REVIEWED_OUTCOMES), ~has_item)
        .order_by(OwnerContact.id)
    )
    items = review_items_for(contacts, tz)
    session.add_all(items)
    session.flush()
    return len(items)
