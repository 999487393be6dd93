"""Where a database's schema stands against the migrations this code ships."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SAWarning

from franchise.errors import Refused
from franchise.migrate import alembic_config


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None  # None: no Franchise schema yet
    head: str
    known: frozenset[str]

    @property
    def is_current(self) -> bool:
        return self.current == self.head

    @property
    def is_newer(self) -> bool:
        """Written by a newer Franchise: a revision this code has never heard of."""
        return self.current is not None and self.current not in self.known


def shipped_revisions() -> tuple[str, frozenset[str]]:
    """(head, every revision) of the migrations in this code."""
    scripts = ScriptDirectory.from_config(alembic_config())
    head = scripts.get_current_head()
    assert head is not None
    return head, frozenset(s.revision for s in scripts.walk_revisions())


def schema_status(bind: Engine | Connection) -> SchemaStatus:
    head, known = shipped_revisions()
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return SchemaStatus(_current(conn), head, known)
    return SchemaStatus(_current(bind), head, known)


def _current(conn: Connection) -> str | None:
    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
    return str(revision) if revision is not None else None


def refuse_newer(status: SchemaStatus) -> None:
    if status.is_newer:
        raise Refused(
            f"the database's schema is at revision {status.current!r}, newer than this "
            f"Franchise knows (its newest is {status.head!r}): install the newer Franchise "
            "that wrote it, or restore a backup made before that upgrade"
        )


def schema_differences(engine: Engine) -> list[str]:
    """What differs between the models and the database's tables; empty when they agree."""
    from franchise.migrate import include_name
    from franchise.models import Base

    with engine.connect() as conn, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes (lower(hostname)); the migrations test
        # checks those on PostgreSQL, so the warning would only alarm the operator here.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
        warnings.filterwarnings("ignore", "autogenerate skipping", UserWarning)
        # The text index made in raw SQL is no model's, as in the migrations' own check.
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include_name}
        )
        return [_describe(diff) for diff in compare_metadata(context, Base.metadata)]


def _describe(diff: object) -> str:
    # compare_metadata gives tuples like ('add_table', Table) or lists of column changes.
    if isinstance(diff, tuple) and diff:
        kind, *rest = diff
        target = rest[0] if rest else ""
        name = getattr(target, "name", target)
        return f"{kind} {name}"
    return str(diff)
