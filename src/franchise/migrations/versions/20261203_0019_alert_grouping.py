"""alerts: grouping per integration, group members, per-alert failures and chunk progress

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-03 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("integrations", schema=None) as batch_op:
        # Integrations made before grouping existed keep one ticket per alert, as before.
        batch_op.add_column(
            sa.Column("group_by", sa.String(length=16), nullable=False, server_default="alert")
        )
    with op.batch_alter_table("alert_inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("progress", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("alert_errors", sa.JSON(), nullable=True))
    with op.batch_alter_table("alert_groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("members", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_groups", schema=None) as batch_op:
        batch_op.drop_column("members")
    with op.batch_alter_table("alert_inbox", schema=None) as batch_op:
        batch_op.drop_column("alert_errors")
        batch_op.drop_column("progress")
    with op.batch_alter_table("integrations", schema=None) as batch_op:
        batch_op.drop_column("group_by")
