"""Helpers for lessons and audit tests: a CLI and an API app holding only our commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from franchise.accounts.models import Staff
from franchise.app import create_app
from franchise.audit import api as audit_api
from franchise.bootstrap import initialise
from franchise.cli import FranchiseGroup, audit_cmds, lesson_cmds
from franchise.cli.context import CliContext
from franchise.db import Database
from franchise.drills.contact_log import log_contact
from franchise.lessons import api as lessons_api
from franchise.orgsettings.service import get_config
from franchise.runbooks.models import Runbook
from franchise.settings import Settings
from franchise.tickets.models import Ticket
from franchise.tickets.service import create_ticket

# Wednesday 11 March 2026, 12:00 UTC: the current week began Monday 9 March.
NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)


def cli_app() -> typer.Typer:
    """The root group with our commands, as src/franchise/cli/__init__.py will register them."""
    app = typer.Typer(cls=FranchiseGroup, no_args_is_help=True, pretty_exceptions_enable=False)
    runbook_app = typer.Typer(no_args_is_help=True)
    app.add_typer(lesson_cmds.app, name="lesson")
    app.add_typer(runbook_app, name="runbook")
    lesson_cmds.register(runbook_app)
    audit_cmds.register(app)
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
    app.include_router(lessons_api.router, prefix="/api/v1")
    app.include_router(audit_api.router, prefix="/api/v1")
    with TestClient(app) as client:
        yield client


def starter(session: Session, *, updated_days_ago: int = 10) -> dict[str, Runbook]:
    """The starter library, every runbook last revised `updated_days_ago` days before NOW."""
    initialise(session)
    rows = {r.key: r for r in session.scalars(select(Runbook))}
    for row in rows.values():
        row.updated_at = NOW - timedelta(days=updated_days_ago)
    session.flush()
    return rows


def tickets(
    session: Session, category: str | None, n: int, *, days_ago: float = 1, **fields: Any
) -> list[Ticket]:
    made = []
    for i in range(n):
        ticket = create_ticket(
            session,
            title=f"{category} ticket {i}",
            category=category,
            created_at=NOW - timedelta(days=days_ago),
        )
        for name, value in fields.items():
            setattr(ticket, name, value)
        made.append(ticket)
    session.flush()
    return made


def contact(
    session: Session,
    reason: str,
    *,
    at: datetime,
    ticket: Ticket | None = None,
    outcome: str = "interruption",
    by: Staff | None = None,
) -> None:
    log_contact(
        session,
        occurred_at=at,
        channel="call",
        reason=reason,
        outcome=outcome,
        ticket=ticket,
        by=by,
        config=get_config(session),
    )
