"""A CLI and an API app holding our commands and routers, as the shared files will wire them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from franchise.app import create_app
from franchise.ask import api as ask_api
from franchise.cli import FranchiseGroup, ask_cmds, drill_cmds
from franchise.cli.context import CliContext
from franchise.db import Database
from franchise.drills import api as drills_api
from franchise.settings import Settings


def cli_app() -> typer.Typer:
    app = typer.Typer(cls=FranchiseGroup, no_args_is_help=True, pretty_exceptions_enable=False)
    ask_cmds.register(app)
    drill_cmds.register(app)
    return app


class Invoker:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.context = CliContext(_settings=settings, db=db, migrated=True)
        self.runner = CliRunner()
        self.app = cli_app()

    def __call__(self, *args: str) -> Any:
        return self.runner.invoke(self.app, list(args), obj=self.context)


@contextmanager
def api_client(db: Database, settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, db=db)
    app.include_router(ask_api.router, prefix="/api/v1")
    app.include_router(drills_api.router, prefix="/api/v1")
    with TestClient(app) as client:
        yield client
