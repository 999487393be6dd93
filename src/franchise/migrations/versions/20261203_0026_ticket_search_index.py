# ruff: noqa: S608 - the SQL is built from constants of this file, never from input
"""ticket_search_index: a text index for the queue's search, indexes for its new sorts

On SQLite an FTS5 table with the trigram tokenizer over the title, body and external id of
every ticket, kept in step by triggers and filled from the tickets already there. On
PostgreSQL pg_trgm GIN indexes on the same three columns, which ILIKE '%term%' uses.
The queue sorts by title, and by priority rank: an index on each with the id.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 22:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("title", "body", "external_id")
# The names are those of franchise.tickets.search (copied: a migration must not change when
# the code it once matched does).
FTS = "tickets_search"
TRIGGERS = ("tickets_search_insert", "tickets_search_delete", "tickets_search_update")


# franchise.queue.service.PRIORITY_RANK (then tickets.queue): the queries must use the same
# expression (there the column is named with its table, which an index expression may not).
PRIORITY_RANK = (
    "(CASE priority WHEN 'low' THEN 1 WHEN 'normal' THEN 2 WHEN 'high' THEN 3 "
    "WHEN 'critical' THEN 4 ELSE 0 END)"
)


def upgrade() -> None:
    op.create_index("ix_tickets_title_id", "tickets", ["title", "id"])
    op.execute(f"CREATE INDEX ix_tickets_priority_rank_id ON tickets ({PRIORITY_RANK}, id)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in COLUMNS:
            op.execute(
                f"CREATE INDEX ix_tickets_{column}_trgm ON tickets USING gin ({column} gin_trgm_ops)"
            )
        return
    new = ", ".join(f"new.{c}" for c in COLUMNS)
    old = ", ".join(f"old.{c}" for c in COLUMNS)
    columns = ", ".join(COLUMNS)
    # External content: the index keeps no copy of the text. Deleting from it needs the
    # values it indexed, which the triggers pass as old.*.
    op.execute(
        f"CREATE VIRTUAL TABLE {FTS} USING fts5({columns}, content='tickets', "
        "content_rowid='id', tokenize='trigram')"
    )
    op.execute(
        f"CREATE TRIGGER tickets_search_insert AFTER INSERT ON tickets BEGIN "
        f"INSERT INTO {FTS} (rowid, {columns}) VALUES (new.id, {new}); END"
    )
    op.execute(
        f"CREATE TRIGGER tickets_search_delete AFTER DELETE ON tickets BEGIN "
        f"INSERT INTO {FTS} ({FTS}, rowid, {columns}) VALUES ('delete', old.id, {old}); END"
    )
    # Only edits of the indexed text touch the index (a status change does not).
    op.execute(
        f"CREATE TRIGGER tickets_search_update AFTER UPDATE OF id, {columns} ON tickets BEGIN "
        f"INSERT INTO {FTS} ({FTS}, rowid, {columns}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {FTS} (rowid, {columns}) VALUES (new.id, {new}); END"
    )
    op.execute(f"INSERT INTO {FTS} ({FTS}) VALUES ('rebuild')")


def downgrade() -> None:
    op.drop_index("ix_tickets_title_id", table_name="tickets")
    op.execute("DROP INDEX IF EXISTS ix_tickets_priority_rank_id")
    if op.get_bind().dialect.name == "postgresql":
        for column in COLUMNS:
            op.execute(f"DROP INDEX IF EXISTS ix_tickets_{column}_trgm")
        # pg_trgm stays: other databases' objects or an operator's own may use it.
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute(f"DROP TABLE IF EXISTS {FTS}")
