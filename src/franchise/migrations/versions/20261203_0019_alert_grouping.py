"""alerts: grouping per integration, group members, per-alert failures and chunk progress

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import franchise.db

revision: str = "0019"
down_revision: str | None = "0018"
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
    op.create_table(
        "alert_outages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", franchise.db.UTCDateTime(), nullable=False),
        sa.Column("last_at", franchise.db.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", franchise.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_alert_outages_client_id_clients"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_alert_outages_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_outages")),
    )
    op.create_index(
        "ix_alert_outages_scope_open", "alert_outages", ["scope", "resolved_at"], unique=False
    )
    with op.batch_alter_table("alert_groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("members", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("client_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("site", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("outage_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_alert_groups_client_id_clients"),
            "clients",
            ["client_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_alert_groups_outage_id_alert_outages"),
            "alert_outages",
            ["outage_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_alert_groups_outage_id"), ["outage_id"], unique=False)
        batch_op.create_index(
            "ix_alert_groups_site_first_seen", ["site", "first_seen"], unique=False
        )
        batch_op.create_index(
            "ix_alert_groups_client_first_seen", ["client_id", "first_seen"], unique=False
        )
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outage_alert_groups", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("outage_window_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("outage_window_minutes")
        batch_op.drop_column("outage_alert_groups")
    with op.batch_alter_table("alert_groups", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_groups_client_first_seen")
        batch_op.drop_index("ix_alert_groups_site_first_seen")
        batch_op.drop_index(batch_op.f("ix_alert_groups_outage_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_alert_groups_outage_id_alert_outages"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_alert_groups_client_id_clients"), type_="foreignkey"
        )
        batch_op.drop_column("outage_id")
        batch_op.drop_column("site")
        batch_op.drop_column("client_id")
        batch_op.drop_column("members")
    op.drop_index("ix_alert_outages_scope_open", table_name="alert_outages")
    op.drop_table("alert_outages")
    with op.batch_alter_table("alert_inbox", schema=None) as batch_op:
        batch_op.drop_column("alert_errors")
        batch_op.drop_column("progress")
    with op.batch_alter_table("integrations", schema=None) as batch_op:
        batch_op.drop_column("group_by")
