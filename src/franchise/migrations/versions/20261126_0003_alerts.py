"""alerts: integrations, raw-payload inbox, alert groups, client mappings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import franchise.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_prefix", sa.String(length=16), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("auto_resolve", sa.Boolean(), nullable=False),
        sa.Column("created_at", franchise.db.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", franchise.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_integrations_client_id_clients"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_integrations_token_hash")),
    )
    op.create_table(
        "alert_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_seen", franchise.db.UTCDateTime(), nullable=False),
        sa.Column("last_seen", franchise.db.UTCDateTime(), nullable=False),
        sa.Column("status_at", franchise.db.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", franchise.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_alert_groups_integration_id_integrations"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_alert_groups_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_groups")),
        sa.UniqueConstraint("integration_id", "dedup_key", name="integration_dedup_key"),
    )
    with op.batch_alter_table("alert_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_groups_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "alert_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("received_at", franchise.db.UTCDateTime(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("alert_count", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", franchise.db.UTCDateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=120), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("processed_at", franchise.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_alert_inbox_integration_id_integrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_inbox")),
    )
    with op.batch_alter_table("alert_inbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_inbox_integration_id"), ["integration_id"], unique=False
        )
        batch_op.create_index("ix_alert_inbox_state_id", ["state", "id"], unique=False)

    op.create_table(
        "client_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=True),
        sa.Column("label_key", sa.String(length=100), nullable=True),
        sa.Column("label_value", sa.String(length=255), nullable=True),
        sa.Column("host_pattern", sa.String(length=255), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("created_at", franchise.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_client_mappings_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_client_mappings_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_mappings")),
    )
    with op.batch_alter_table("client_mappings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_client_mappings_integration_id"), ["integration_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("client_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_mappings_integration_id"))
    op.drop_table("client_mappings")
    with op.batch_alter_table("alert_inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_inbox_state_id")
        batch_op.drop_index(batch_op.f("ix_alert_inbox_integration_id"))
    op.drop_table("alert_inbox")
    with op.batch_alter_table("alert_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_groups_ticket_id"))
    op.drop_table("alert_groups")
    op.drop_table("integrations")
