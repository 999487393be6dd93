"""indexes for the dashboard; review items for contacts logged before they opened them

Review items are now opened when a contact is logged, and reading a review no longer creates
them; contacts stored before that get their items here, as a first read would have made them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 09:45:00.000000
"""

from collections.abc import Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import franchise.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_events_field_value")
        batch_op.create_index(
            "ix_ticket_events_field_value",
            ["field", "new_value", "ticket_id", "at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_ticket_events_ticket_at", ["ticket_id", "at", "field"], unique=False
        )

    with op.batch_alter_table("owner_contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_owner_contacts_drill_id")
        batch_op.create_index(
            "ix_owner_contacts_drill_outcome", ["drill_id", "outcome", "emergency"], unique=False
        )

    _open_missing_review_items()


settings = sa.table("org_settings", sa.column("key", sa.String), sa.column("value", sa.JSON))
contacts = sa.table(
    "owner_contacts",
    sa.column("id", sa.Integer),
    sa.column("occurred_at", franchise.db.UTCDateTime()),
    sa.column("outcome", sa.String),
    sa.column("drill_id", sa.Integer),
    sa.column("ticket_id", sa.Integer),
)
items = sa.table(
    "review_items",
    sa.column("id", sa.Integer),
    sa.column("drill_id", sa.Integer),
    sa.column("week_start", sa.String),
    sa.column("contact_id", sa.Integer),
    sa.column("ticket_id", sa.Integer),
)


def _open_missing_review_items() -> None:
    """The rule of franchise.drills.items, frozen here as it stands at this revision."""
    bind = op.get_bind()
    stored = bind.execute(sa.select(settings.c.value).where(settings.c.key == "timezone")).first()
    tz = ZoneInfo(str((stored[0] or {}).get("value") or "UTC") if stored else "UTC")
    has_item = sa.exists().where(items.c.contact_id == contacts.c.id)
    reviewed = sa.or_(
        sa.and_(
            contacts.c.drill_id.is_not(None), contacts.c.outcome.in_(("interruption", "refused"))
        ),
        sa.and_(contacts.c.drill_id.is_(None), contacts.c.outcome == "interruption"),
    )
    rows = bind.execute(
        sa.select(contacts.c.id, contacts.c.occurred_at, contacts.c.drill_id, contacts.c.ticket_id)
        .where(reviewed, ~has_item)
        .order_by(contacts.c.id)
    ).all()
    new = []
    for contact_id, occurred_at, drill_id, ticket_id in rows:
        week = None
        if drill_id is None:
            local = occurred_at.astimezone(tz).date()
            week = (local - timedelta(days=local.weekday())).isoformat()
        new.append(
            {
                "drill_id": drill_id,
                "week_start": week,
                "contact_id": contact_id,
                "ticket_id": ticket_id,
            }
        )
    for start in range(0, len(new), 5000):
        bind.execute(sa.insert(items), new[start : start + 5000])


def downgrade() -> None:
    with op.batch_alter_table("owner_contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_owner_contacts_drill_outcome")
        batch_op.create_index("ix_owner_contacts_drill_id", ["drill_id"], unique=False)

    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_events_ticket_at")
        batch_op.drop_index("ix_ticket_events_field_value")
        batch_op.create_index(
            "ix_ticket_events_field_value", ["field", "new_value", "ticket_id"], unique=False
        )
