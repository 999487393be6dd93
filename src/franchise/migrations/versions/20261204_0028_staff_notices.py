"""staff_notices: every notification as its person sees it in the app

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import franchise.db

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=False),
        sa.Column("created_at", franchise.db.UTCDateTime(), nullable=False),
        sa.Column("read_at", franchise.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_staff_notices_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_staff_notices_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_notices")),
    )
    with op.batch_alter_table("staff_notices", schema=None) as batch_op:
        batch_op.create_index("ix_staff_notices_unread", ["staff_id", "read_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_notices_ticket_id"), ["ticket_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_staff_notices_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_notices_created_at"))
        batch_op.drop_index(batch_op.f("ix_staff_notices_ticket_id"))
        batch_op.drop_index("ix_staff_notices_unread")
    op.drop_table("staff_notices")
