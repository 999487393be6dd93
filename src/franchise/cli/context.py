"""What every command shares: settings, the database, and output helpers."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
from rich.console import Console

from franchise.db import Database
from franchise.settings import Settings

console = Console()
err_console = Console(stderr=True)


@dataclass
class CliContext:
    settings: Settings = field(default_factory=Settings)
    db: Database | None = None
    migrated: bool = False

    def database(self) -> Database:
        """The database, created and migrated on first use."""
        if self.db is None:
            self.db = Database.from_url(self.settings.resolved_database_url)
        if not self.migrated:
            from franchise.migrate import upgrade

            upgrade(self.db)
            self.migrated = True
        return self.db


def get_context(ctx: typer.Context) -> CliContext:
    root = ctx.find_root()
    if root.obj is None:
        root.obj = CliContext()
    assert isinstance(root.obj, CliContext)
    return root.obj


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
