"""ask_replies: the owner's reply to an ask; owner_contacts.recorded_by_id: who logged it

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 15:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import franchise.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ask_replies",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("replied_at", franchise.db.UTCDateTime(), nullable=False),
        sa.Column("replied_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["owner_contacts.id"],
            name=op.f("fk_ask_replies_contact_id_owner_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["replied_by_id"],
            ["staff.id"],
            name=op.f("fk_ask_replies_replied_by_id_staff"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_ask_replies")),
    )
    # Added in place (no table rebuild): the review items refer to owner_contacts.
    op.add_column("owner_contacts", sa.Column("recorded_by_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("owner_contacts", "recorded_by_id")
    op.drop_table("ask_replies")
