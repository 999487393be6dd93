"""clients: archive; contacts: mobile, VIP, may approve spend; tickets: requester;
messages: CC and edited body

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 17:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import franchise.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archived_at", franchise.db.UTCDateTime(), nullable=True))
    with op.batch_alter_table("client_contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mobile", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("is_vip", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("can_approve_spend", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requester_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_tickets_requester_id"), ["requester_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_tickets_requester_id_client_contacts"),
            "client_contacts",
            ["requester_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("ticket_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cc_address", sa.String(length=320), nullable=True))
        batch_op.add_column(
            sa.Column("edited", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket_messages", schema=None) as batch_op:
        batch_op.drop_column("edited")
        batch_op.drop_column("cc_address")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_tickets_requester_id_client_contacts"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_tickets_requester_id"))
        batch_op.drop_column("requester_id")
    with op.batch_alter_table("client_contacts", schema=None) as batch_op:
        batch_op.drop_column("can_approve_spend")
        batch_op.drop_column("is_vip")
        batch_op.drop_column("mobile")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
