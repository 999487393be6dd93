"""staff_channels and action_links: people's Teams/Slack webhooks, signed single-use links

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import franchise.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("url_sealed", sa.Text(), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=True),
        sa.Column("updated_at", franchise.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_staff_channels_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_channels")),
        sa.UniqueConstraint("staff_id", "kind", name=op.f("uq_staff_channels_staff_id")),
    )
    with op.batch_alter_table("staff_channels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_channels_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_staff_channels_slack_user_id"), ["slack_user_id"], unique=False
        )
    op.create_table(
        "action_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("created_at", franchise.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", franchise.db.UTCDateTime(), nullable=False),
        sa.Column("used_at", franchise.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_action_links_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_links")),
    )
    with op.batch_alter_table("action_links", schema=None) as batch_op:
        batch_op.create_index("ix_action_links_target", ["target_kind", "target_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_links_staff_id"), ["staff_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("action_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_links_staff_id"))
        batch_op.drop_index("ix_action_links_target")
    op.drop_table("action_links")
    with op.batch_alter_table("staff_channels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_channels_slack_user_id"))
        batch_op.drop_index(batch_op.f("ix_staff_channels_staff_id"))
    op.drop_table("staff_channels")
