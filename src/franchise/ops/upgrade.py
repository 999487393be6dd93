"""`franchise upgrade`: back up, migrate, then check the schema and the starter library."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from franchise.backup.service import backup_to_folder
from franchise.db import Database
from franchise.errors import FranchiseError
from franchise.migrate import upgrade as migrate
from franchise.ops.schema import refuse_newer, schema_differences, schema_status


class SchemaMismatch(FranchiseError):
    """The migrations ran but the tables still differ from what the code expects."""

    code = "schema_mismatch"
    status = 500


def upgrade_database(db: Database, *, backup_dir: Path | None) -> dict[str, Any]:
    """Upgrade `db` in place. `backup_dir` None skips the backup (the caller said so)."""
    from franchise.bootstrap import initialise

    if not isinstance(db.bind, Engine):
        raise FranchiseError("upgrade runs against a real database, not a connection")
    before = schema_status(db.bind)
    refuse_newer(before)
    backup: dict[str, Any] | None = None
    # A database without a schema has nothing to lose; one already current needs no copy.
    if backup_dir is not None and before.current is not None and not before.is_current:
        url = db.bind.url.render_as_string(hide_password=False)
        backup = backup_to_folder(url, backup_dir, label=f"before-upgrade-{before.current}")
    migrate(db)
    after = schema_status(db.bind)
    differences = schema_differences(db.bind)
    if differences or not after.is_current:
        raise SchemaMismatch(
            f"after migrating, the schema is at {after.current!r} (expected {after.head!r}) "
            f"and differs from the models in {len(differences)} place(s); restore the "
            "backup and report this",
            errors=[{"message": d} for d in differences[:50]],
        )
    with db.unit_of_work() as session:
        library = initialise(session)
    return {
        "from_revision": before.current,
        "to_revision": after.current,
        "migrated": before.current != after.current,
        "backup": backup,
        "schema_checked": True,
        "starter_library": library,
    }
