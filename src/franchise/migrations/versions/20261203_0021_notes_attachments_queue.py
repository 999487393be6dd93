"""tickets: minutes worked on notes, note attachments, and the queue's paging indexes

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-03 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import franchise.db

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUE_INDEXES = (
    ("ix_tickets_created_id", ["created_at", "id"]),
    ("ix_tickets_updated_id", ["updated_at", "id"]),
    ("ix_tickets_client_created", ["client_id", "created_at", "id"]),
    ("ix_tickets_assignee_created", ["assignee_id", "created_at", "id"]),
    ("ix_tickets_level_created", ["level", "created_at", "id"]),
    ("ix_tickets_priority_created", ["priority", "created_at", "id"]),
)


def upgrade() -> None:
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("minutes", sa.Integer(), nullable=True))
    op.create_table(
        "note_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("stored_name", sa.String(length=100), nullable=False),
        sa.Column("created_at", franchise.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["ticket_events.id"],
            name=op.f("fk_note_attachments_event_id_ticket_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_note_attachments_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_attachments")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_note_attachments_stored_name")),
    )
    op.create_index(
        op.f("ix_note_attachments_event_id"), "note_attachments", ["event_id"], unique=False
    )
    op.create_index(
        op.f("ix_note_attachments_ticket_id"), "note_attachments", ["ticket_id"], unique=False
    )
    for name, columns in QUEUE_INDEXES:
        op.create_index(name, "tickets", columns, unique=False)


def downgrade() -> None:
    for name, _columns in QUEUE_INDEXES:
        op.drop_index(name, table_name="tickets")
    op.drop_index(op.f("ix_note_attachments_ticket_id"), table_name="note_attachments")
    op.drop_index(op.f("ix_note_attachments_event_id"), table_name="note_attachments")
    op.drop_table("note_attachments")
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.drop_column("minutes")
