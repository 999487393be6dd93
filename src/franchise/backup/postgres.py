"""PostgreSQL backups with the system's pg_dump and pg_restore (custom format)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from franchise.db import normalise_url
from franchise.errors import FranchiseError

# The tail of a tool's stderr is enough to say what went wrong without flooding the terminal.
STDERR_LINES = 8


class ToolFailed(FranchiseError):
    """pg_dump or pg_restore is missing or failed."""

    code = "tool_failed"
    status = 500


def backup(url: str, dest: Path) -> None:
    dsn, env = _libpq_target(url)
    _run("pg_dump", ["--format=custom", f"--file={dest}", f"--dbname={dsn}"], env)


def restore(url: str, source: Path) -> None:
    dsn, env = _libpq_target(url)
    # --single-transaction: a failed restore leaves the database as it was, not half-replaced.
    _run(
        "pg_restore",
        [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={dsn}",
            str(source),
        ],
        env,
    )


def _libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, which goes through PGPASSWORD so `ps` never shows it."""
    parsed = make_url(normalise_url(url))
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(tool: str, args: list[str], env: dict[str, str]) -> None:
    binary = shutil.which(tool)
    if binary is None:
        raise ToolFailed(
            f"{tool} not found on PATH; install the PostgreSQL client tools "
            "(Debian/Ubuntu: apt-get install postgresql-client) matching the server's version"
        )
    completed = subprocess.run(  # noqa: S603 - fixed binary, arguments built here
        [binary, *args], env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        lines = [line for line in completed.stderr.splitlines() if line.strip()]
        detail = "; ".join(lines[-STDERR_LINES:]) or "no message"
        raise ToolFailed(f"{tool} failed (exit {completed.returncode}): {detail}")
