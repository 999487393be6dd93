"""approval_requests.decision_note: the decider's own words, apart from the whole reason

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 21:00:00.000000

Requests decided earlier keep their words only inside `reason`; the approvals page still
reads them from there (approvals/details.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("approval_requests") as batch:
        batch.add_column(sa.Column("decision_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("approval_requests") as batch:
        batch.drop_column("decision_note")
