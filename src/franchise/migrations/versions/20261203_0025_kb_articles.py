"""kb_articles: the knowledge-base article (Hudu, IT Glue) each runbook was pushed to

Revision ID: 0025
Revises: 0019
Create Date: 2026-12-03 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import franchise.db

revision: str = "0025"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("runbook_key", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("section_id", sa.String(length=64), nullable=True),
        sa.Column("pushed_revision", sa.Integer(), nullable=False),
        sa.Column("pushed_at", franchise.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
        sa.UniqueConstraint("kind", "runbook_key", name=op.f("uq_kb_articles_kind")),
    )


def downgrade() -> None:
    op.drop_table("kb_articles")
