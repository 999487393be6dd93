"""staff.reset_epoch: raised at each deactivation, covered by every password-reset link

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 22:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("reset_epoch", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("reset_epoch")
