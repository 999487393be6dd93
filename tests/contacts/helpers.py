"""Helpers for contacts and settings tests: a CLI and an API app holding only our commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from franchise.accounts.service import add_staff, create_token
from franchise.app import create_app
from franchise.cli import FranchiseGroup, contact_cmds, settings_cmds
from franchise.cli.context import CliContext
from franchise.contacts import api as contacts_api
from franchise.db import Database
from franchise.orgsettings import api as settings_api
from franchise.settings import Settings


def cli_app() -> typer.Typer:
    """The root group with our commands, as src/franchise/cli/__init__.py will register them."""
    app = typer.Typer(cls=FranchiseGroup, no_args_is_help=True, pretty_exceptions_enable=False)
    app.add_typer(contact_cmds.app, name="contact")
    app.add_typer(settings_cmds.app, name="settings")
    contact_cmds.register(app)
    return app


class Invoker:
    def __init__(self, db: Database, home: Path) -> None:
        self.context = CliContext(_settings=Settings(home=home), db=db, migrated=True)
        self.runner = CliRunner()
        self.app = cli_app()

    def __call__(self, *args: str) -> Any:
        return self.runner.invoke(self.app, list(args), obj=self.context)


@contextmanager
def api_client(db: Database, home: Path) -> Iterator[TestClient]:
    app = create_app(Settings(home=home), db=db)
    app.include_router(contacts_api.router, prefix="/api/v1")
    app.include_router(settings_api.router, prefix="/api/v1")
    with TestClient(app) as client:
        yield client


def bearer_tokens(db: Database) -> dict[str, dict[str, str]]:
    """Authorization headers for a technician ('L1') and the owner ('owner')."""
    out = {}
    with db.unit_of_work() as session:
        for role, level, email in (
            ("technician", "L1", "tech@example.com"),
            ("owner", "owner", "boss@example.com"),
        ):
            staff = add_staff(
                session, name=email.split("@")[0], email=email, role=role, level=level
            )
            out[level] = {
                "Authorization": f"Bearer {create_token(session, staff=staff, name='t')[1]}"
            }
    return out
