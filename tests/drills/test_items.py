"""Review items are opened when a contact is logged; reading a review writes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from franchise.contacts.models import OwnerContact
from franchise.drills.contact_log import import_contacts, log_contact
from franchise.drills.items import open_missing_items
from franchise.drills.models import Drill, ReviewItem
from franchise.drills.review import drill_review, week_review
from franchise.drills.service import drill_status, start_drill
from franchise.migrate import alembic_config
from franchise.orgsettings.service import OrgConfig, get_config, set_setting
from franchise.tickets.models import Ticket
from tests.ask.fixtures import Team

WEDNESDAY = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)


@contextmanager
def writes(session: Session) -> Iterator[list[str]]:
    """The INSERT, UPDATE and DELETE statements the session sends while the block runs."""
    seen: list[str] = []
    connection = session.connection()

    def record(*args: Any) -> None:
        statement = str(args[2]).lstrip().split(None, 1)[0].upper()
        if statement in ("INSERT", "UPDATE", "DELETE"):
            seen.append(str(args[2]))

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)


def berlin(session: Session) -> OrgConfig:
    return set_setting(session, "timezone", "Europe/Berlin")


def contact(session: Session, at: datetime, outcome: str = "interruption") -> OwnerContact:
    return log_contact(
        session,
        occurred_at=at,
        channel="call",
        reason="other",
        outcome=outcome,
        config=get_config(session),
    )


def item_of(session: Session, c: OwnerContact) -> ReviewItem | None:
    return session.scalar(select(ReviewItem).where(ReviewItem.contact_id == c.id))


def test_logging_a_contact_opens_the_item_of_the_review_that_lists_it(
    session: Session, team: Team
) -> None:
    berlin(session)
    drill = start_drill(session, days=1, at=WEDNESDAY + timedelta(days=1), now=WEDNESDAY)
    during = WEDNESDAY + timedelta(days=1, hours=1)
    in_drill = [contact(session, during, o) for o in ("interruption", "refused", "deflection")]
    # Sunday 23:30 in Berlin belongs to the week of Monday 03-02.
    sunday = contact(session, datetime(2026, 3, 8, 22, 30, tzinfo=UTC))
    outside = [contact(session, WEDNESDAY, o) for o in ("deflection", "refused")]

    opened = [item_of(session, c) for c in in_drill]
    assert [(i.drill_id, i.week_start) if i else None for i in opened] == [
        (drill.id, None),
        (drill.id, None),
        None,
    ]
    weekly = item_of(session, sunday)
    assert weekly is not None
    assert (weekly.drill_id, weekly.week_start, weekly.disposition) == (None, "2026-03-02", None)
    assert [item_of(session, c) for c in outside] == [None, None]


def test_an_imported_contact_opens_its_item(session: Session, team: Team, tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(
        "occurred_at,channel,ticket,by,reason,minutes,emergency,outcome\n"
        "2026-03-04T11:00:00+00:00,call,,,approval,5,no,interruption\n"
        "2026-03-04T12:00:00+00:00,call,,,approval,5,no,deflection\n",
        encoding="utf-8",
    )
    assert import_contacts(session, path, get_config(session))["imported"] == 2
    items = session.scalars(select(ReviewItem)).all()
    assert [(i.week_start, i.drill_id) for i in items] == [("2026-03-02", None)]


def test_reading_reviews_and_drill_status_writes_nothing(
    session: Session, team: Team, make_ticket: Callable[..., Ticket]
) -> None:
    start = datetime.now(UTC) - timedelta(days=2)
    drill = start_drill(session, days=1, now=start)
    contact(session, start + timedelta(hours=1))
    contact(session, start + timedelta(hours=2), "refused")
    contact(session, datetime.now(UTC) - timedelta(minutes=5))
    session.flush()
    with writes(session) as seen:
        review = drill_review(session)
        week = week_review(session)
        drill_status(session)
    assert seen == []
    assert review["drill"]["id"] == drill.id
    assert [i["outcome"] for i in review["items"]] == ["interruption", "refused"]
    assert len(week["items"]) == 1


def test_contacts_loaded_in_bulk_get_their_items_once(session: Session, team: Team) -> None:
    berlin(session)
    drill = Drill(starts_at=WEDNESDAY, ends_at=WEDNESDAY + timedelta(days=1))
    session.add(drill)
    session.flush()
    rows: list[dict[str, Any]] = [
        {"occurred_at": WEDNESDAY, "outcome": "refused", "drill_id": drill.id},
        {"occurred_at": WEDNESDAY, "outcome": "deflection", "drill_id": drill.id},
        {"occurred_at": datetime(2026, 3, 1, 23, 30, tzinfo=UTC), "outcome": "interruption"},
    ]
    common = {"channel": "call", "reason": "other", "created_at": WEDNESDAY}
    session.execute(insert(OwnerContact), [{"drill_id": None, **common, **r} for r in rows])
    assert open_missing_items(session, get_config(session).tz) == 2
    assert open_missing_items(session, get_config(session).tz) == 0
    items = session.scalars(select(ReviewItem).order_by(ReviewItem.id)).all()
    # 03-01 23:30 UTC is Monday 00:30 in Berlin: the week of 03-02.
    assert [(i.drill_id, i.week_start) for i in items] == [
        (drill.id, None),
        (None, "2026-03-02"),
    ]
    listed = week_review(session, week=date(2026, 3, 2), now=WEDNESDAY)
    assert [i["id"] for i in listed["items"]] == [items[1].id]


def test_the_migration_opens_items_for_contacts_stored_before_it(
    session: Session, team: Team
) -> None:
    berlin(session)
    drill = Drill(starts_at=WEDNESDAY, ends_at=WEDNESDAY + timedelta(days=1))
    session.add(drill)
    session.flush()
    in_drill = contact(session, WEDNESDAY + timedelta(hours=1))
    weekly = contact(session, datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    reviewed = item_of(session, in_drill)
    assert reviewed is not None
    reviewed.disposition = "improve_runbook"
    pending = item_of(session, weekly)
    assert pending is not None
    session.delete(pending)
    session.flush()

    config = alembic_config()
    config.attributes["connection"] = session.connection()
    command.downgrade(config, "0006")
    command.upgrade(config, "head")

    session.expire_all()
    items = session.scalars(select(ReviewItem).order_by(ReviewItem.contact_id)).all()
    assert [(i.contact_id, i.drill_id, i.week_start, i.disposition) for i in items] == [
        (in_drill.id, drill.id, None, "improve_runbook"),
        (weekly.id, None, "2026-03-02", None),
    ]
