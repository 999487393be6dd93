"""Test helpers shared across folders."""

from __future__ import annotations

from typer.testing import CliRunner

from franchise.cli.context import CliContext


class CliInvoker:
    """Runs `franchise ...` in-process against the test database."""

    def __init__(self, context: CliContext) -> None:
        self.context = context
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        from franchise.cli import app

        return self.runner.invoke(app, list(args), obj=self.context, input=input)
