"""owner_contacts: the owner's reply to an ask, and who recorded each contact

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
    with op.batch_alter_table("owner_contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("replied_at", franchise.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("replied_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_owner_contacts_replied_by_id_staff"), "staff", ["replied_by_id"], ["id"]
        )
        batch_op.add_column(sa.Column("recorded_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_owner_contacts_recorded_by_id_staff"),
            "staff",
            ["recorded_by_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("owner_contacts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_owner_contacts_recorded_by_id_staff"), type_="foreignkey"
        )
        batch_op.drop_column("recorded_by_id")
        batch_op.drop_constraint(
            batch_op.f("fk_owner_contacts_replied_by_id_staff"), type_="foreignkey"
        )
        batch_op.drop_column("replied_by_id")
        batch_op.drop_column("replied_at")
        batch_op.drop_column("reply")
