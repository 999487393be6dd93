"""Test helpers shared across folders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from franchise.cli.context import CliContext
from franchise.db import Database
from franchise.outbox.service import Outcome, deliver_due
from franchise.settings import Settings


class CliInvoker:
    """Runs `franchise ...` in-process against the test database."""

    def __init__(self, context: CliContext) -> None:
        self.context = context
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        from franchise.cli import app

        return self.runner.invoke(app, list(args), obj=self.context, input=input)


def deliver_outbox(
    session: Session, db: Database, settings: Settings, *, now: datetime | None = None
) -> dict[int, Outcome]:
    """What a unit of work does once committed: send what the test's session queued (and
    whatever else is due). The session then sees the outcomes."""
    session.flush()
    outcomes = deliver_due(db, settings, now=now)
    session.expire_all()
    return outcomes
