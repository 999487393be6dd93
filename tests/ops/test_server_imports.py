"""What the server process loads: libraries that only some requests or commands need are
imported by them, so an idle server does not carry them (bench/serve_memory.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from franchise.db import Database
from franchise.migrate import upgrade

# Loaded on first use: passkeys, sealed secrets, SSO, calls to PSAs, KBs and webhooks, the
# MFA QR code, migrations; and the command line, which `franchise serve` leaves behind.
NOT_AT_START = (
    "webauthn",
    "cryptography",
    "joserfc",
    "httpx",
    "segno",
    "alembic",
    "typer",
    "rich",
)

# What the server process does before its first request: the start-up migration check on a
# current schema, the app built as uvicorn builds it, and a readiness probe.
SERVER_START = """
import json, sys
import franchise.server
from franchise.app import app_from_env
from franchise.db import Database
from franchise.migrate import upgrade
from franchise.ops.readiness import check_ready
from franchise.settings import Settings

db = Database.from_url(Settings().resolved_database_url)
upgrade(db)
app = app_from_env()
ready = check_ready(db)
print(json.dumps({"ready": ready["ready"], "loaded": sorted(set(sys.modules))}))
"""


def test_the_server_starts_without_the_libraries_only_some_requests_need(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'franchise.db'}"
    db = Database.from_url(url)
    upgrade(db)  # the schema is current when the server starts
    db.dispose()
    env = {**os.environ, "FRANCHISE_HOME": str(tmp_path), "FRANCHISE_DATABASE_URL": url}
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", SERVER_START],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ready"] is True
    loaded = {name.split(".")[0] for name in report["loaded"]}
    assert "fastapi" in loaded and "sqlalchemy" in loaded  # the check sees real imports
    assert sorted(loaded & set(NOT_AT_START)) == []
