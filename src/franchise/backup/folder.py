"""Backups in a folder: time-stamped names, and retention of the newest N."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from franchise.backup.formats import SQLITE, backend_of
from franchise.db import utcnow
from franchise.errors import InvalidInput

# Only these names are pruned: a backup named by hand, or one taken before an upgrade
# (franchise-<stamp>-before-upgrade-<rev>), stays until someone deletes it.
SCHEDULED = re.compile(r"^franchise-\d{8}T\d{6}Z\.(sqlite3|pgdump)$")


def backup_name(url: str, *, now: datetime | None = None, label: str = "") -> str:
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%SZ")
    suffix = "sqlite3" if backend_of(url) == SQLITE else "pgdump"
    tail = f"-{re.sub(r'[^A-Za-z0-9_.-]', '_', label)}" if label else ""
    return f"franchise-{stamp}{tail}.{suffix}"


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` scheduled backups in `folder`; return the deleted."""
    if keep < 1:
        raise InvalidInput(f"--keep must be at least 1, got {keep}")
    # The time stamp in the name sorts as the time: no clock or mtime to trust.
    scheduled = sorted(p for p in folder.iterdir() if p.is_file() and SCHEDULED.match(p.name))
    doomed = scheduled[:-keep]
    for path in doomed:
        path.unlink()
        # The backup's files archive (franchise.backup.service.files_archive) goes with it.
        path.with_name(path.name + ".files.tar").unlink(missing_ok=True)
    return doomed


def with_pruned(report: dict[str, Any], deleted: list[Path]) -> dict[str, Any]:
    return {**report, "pruned": [str(p) for p in deleted]}
