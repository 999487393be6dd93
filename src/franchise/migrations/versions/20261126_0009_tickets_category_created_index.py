"""tickets: (category, created_at) replaces the index on category

The audit counts each category's recent tickets with one index lookup per category; the
index still serves every lookup by category alone.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 10:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tickets_category_created", ["category", "created_at"], unique=False
        )
        batch_op.drop_index("ix_tickets_category")


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_category", ["category"], unique=False)
        batch_op.drop_index("ix_tickets_category_created")
