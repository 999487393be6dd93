"""approval_requests.recurring: once, month or year

Recurring costs are compared with the boundaries over a year; the request keeps how often
the cost is paid so its text and later decisions use the same figure. Existing requests
paid once.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 14:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("recurring", sa.String(length=8), server_default="once", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.drop_column("recurring")
