"""owner contacts: one index holding every column the KPI reads

The KPI reads every contact of its weeks; with the columns in the index the database reads
no table rows at all. It starts with occurred_at, so it replaces the index on that column.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 10:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KPI_COLUMNS = [
    "occurred_at",
    "outcome",
    "channel",
    "reason",
    "minutes",
    "after_hours",
    "staff_id",
    "ticket_id",
]


def upgrade() -> None:
    with op.batch_alter_table("owner_contacts", schema=None) as batch_op:
        batch_op.create_index("ix_owner_contacts_kpi", KPI_COLUMNS, unique=False)
        batch_op.drop_index("ix_owner_contacts_occurred_at")


def downgrade() -> None:
    with op.batch_alter_table("owner_contacts", schema=None) as batch_op:
        batch_op.create_index("ix_owner_contacts_occurred_at", ["occurred_at"], unique=False)
        batch_op.drop_index("ix_owner_contacts_kpi")
