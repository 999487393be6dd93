"""tickets: how the runbook was attached, a hand-set category, the suggestion on opening

A runbook is attached on opening only when the suggestion is confident enough; otherwise it
is offered, and the ticket keeps the suggestion and its confidence to show the offer.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 14:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("runbook_source", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("category_by_hand", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("suggested_runbook_key", sa.String(length=100), nullable=True)
        )
        batch_op.add_column(sa.Column("suggestion_confidence", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("suggestion_confidence")
        batch_op.drop_column("suggested_runbook_key")
        batch_op.drop_column("category_by_hand")
        batch_op.drop_column("runbook_source")
