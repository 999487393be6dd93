from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import franchise.alerts.models  # noqa: F401 - the alert tables join the metadata
from franchise.alerts import api as alerts_api
from franchise.alerts.inbox import receive, store
from franchise.alerts.models import Integration
from franchise.alerts.service import add_integration
from franchise.alerts.worker import Report, process_pending
from franchise.app import create_app
from franchise.bootstrap import initialise
from franchise.cli import FranchiseGroup, alert_cmds
from franchise.cli.context import CliContext
from franchise.db import Database
from franchise.settings import Settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"


def build_cli() -> typer.Typer:
    """The alert commands on their own Typer root (as `franchise` registers them)."""
    app = typer.Typer(cls=FranchiseGroup, no_args_is_help=True, pretty_exceptions_enable=False)
    alert_cmds.register(app)
    return app


@pytest.fixture
def starter(db: Database) -> None:
    with db.unit_of_work() as session:
        initialise(session)


@pytest.fixture
def make_integration(db: Database) -> Callable[..., tuple[Integration, str]]:
    def make(kind: str = "generic", **options: Any) -> tuple[Integration, str]:
        with db.unit_of_work() as session:
            return add_integration(session, kind=kind, **options)

    return make


@pytest.fixture
def post(db: Database) -> Callable[..., int]:
    """Store a body in the inbox as the webhook would; returns the inbox id."""

    def post_body(integration: Integration, body: bytes | str | dict[str, Any] | list[Any]) -> int:
        import json

        raw = (
            body
            if isinstance(body, bytes)
            else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        )
        with db.unit_of_work() as session:
            return store(session, integration.id, receive(integration.kind, raw, {})).inbox_id

    return post_body


@pytest.fixture
def units_of_work(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the units of work (transactions) begun on `db` from now on."""
    begun: list[int] = []
    begin = db.unit_of_work

    def counting() -> Any:
        begun.append(1)
        return begin()

    monkeypatch.setattr(db, "unit_of_work", counting)
    return begun


@pytest.fixture
def drain(db: Database) -> Callable[[], Report]:
    return lambda: process_pending(db, worker="test-worker")


@pytest.fixture
def hook_client(db: Database, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(home=tmp_path, max_body_bytes=64_000), db=db)
    app.include_router(alerts_api.router, prefix="/api/v1")
    with TestClient(app) as client:
        yield client


@pytest.fixture
def alert_cli(db: Database, tmp_path: Path) -> Callable[..., Any]:
    context = CliContext(_settings=Settings(home=tmp_path), db=db, migrated=True)
    runner = CliRunner()
    app = build_cli()
    return lambda *args: runner.invoke(app, list(args), obj=context)
