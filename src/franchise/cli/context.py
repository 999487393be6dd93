"""What every command shares: settings, the database, and output helpers."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    # Imported lazily: SQLAlchemy and pydantic-settings would double `franchise --help` time.
    from franchise.db import Database
    from franchise.settings import Settings

console = Console()
err_console = Console(stderr=True)


@dataclass
class CliContext:
    _settings: Settings | None = None
    db: Database | None = None
    migrated: bool = False

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from franchise.settings import Settings

            self._settings = Settings()
        return self._settings

    def database(self) -> Database:
        """The database, created and migrated on first use."""
        if self.db is None:
            from franchise.db import Database

            self.db = Database.from_url(self.settings.resolved_database_url)
        # Services that queue notifications read them from there (people.notices).
        self.db.session_info.setdefault("franchise_settings", self.settings)
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
