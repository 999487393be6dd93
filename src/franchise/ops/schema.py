"""Where a database's schema stands against the migrations this code ships.

Which revisions the code ships is read from the migration scripts' own `revision` and
`down_revision` lines, without alembic: the readiness probe, and every start that finds the
schema current, then run without loading it (about 9 MB resident with Mako and Pygments),
which only a migration or a comparison of the tables needs.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SAWarning

from franchise.errors import Refused
from franchise.migrate import MIGRATIONS


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


@lru_cache(maxsize=1)
def shipped_revisions() -> tuple[str, frozenset[str]]:
    """(head, every revision) of the migrations in this code: the revision no other one
    follows, as alembic finds it (the scripts are the ones alembic loads: every .py file of
    the versions folder but __init__.py)."""
    follows: dict[str, tuple[str, ...]] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        if path.name.startswith(("__init__", ".#")):
            continue
        revision, down = _revision_lines(path)
        follows[revision] = down
    heads = set(follows) - {down for downs in follows.values() for down in downs}
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop(), frozenset(follows)


def _revision_lines(path: Path) -> tuple[str, tuple[str, ...]]:
    """A script's revision and the revisions it follows (several for a merge)."""
    values: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target: ast.expr
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            values[target.id] = ast.literal_eval(value)
    revision, down = values.get("revision"), values.get("down_revision")
    if not isinstance(revision, str):
        raise RuntimeError(f"{path.name}: no revision")
    if down is None:
        return revision, ()
    if isinstance(down, str):
        return revision, (down,)
    if isinstance(down, tuple | list):
        return revision, tuple(str(d) for d in down)
    raise RuntimeError(f"{path.name}: down_revision is {down!r}")


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
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

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
