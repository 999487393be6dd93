"""The shipped deployment files pass their own tools' checks: systemd-analyze for the
units, nginx -t for the site, promtool for the alert rules."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.ops.support import DEPLOY, Nginx, nginx_binary


def _load(source: str) -> Any:
    return YAML(typ="safe").load(source)


UNITS = sorted((DEPLOY / "systemd").glob("*.service")) + sorted(
    (DEPLOY / "systemd").glob("*.timer")
)
SHIPPED_BINARY = "/opt/franchise/venv/bin/franchise"


def test_the_units_are_hardened_and_read_the_environment_file() -> None:
    services = [u for u in UNITS if u.suffix == ".service"]
    assert {u.name for u in services} == {
        "franchise-serve@.service",
        "franchise-worker@.service",
        "franchise-backup.service",
    }
    for unit in services:
        lines = set(unit.read_text().splitlines())
        for needed in (
            "User=franchise",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "PrivateTmp=yes",
            "ReadWritePaths=/var/lib/franchise",
            "EnvironmentFile=/etc/franchise/franchise.env",
        ):
            assert needed in lines, f"{unit.name} lacks {needed}"
    backup = (DEPLOY / "systemd" / "franchise-backup.service").read_text()
    assert f"ExecStart={SHIPPED_BINARY} backup --keep 14" in backup


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (Debian package systemd); units not verified",
)
def test_systemd_analyze_verify_passes_on_the_units(tmp_path: Path) -> None:
    # The units name the installed binary; here it is this checkout's (verify checks that
    # ExecStart is executable). Template units are verified as an instance of themselves.
    franchise = Path(sys.executable).with_name("franchise")
    assert franchise.exists(), f"no franchise script beside {sys.executable}"
    names = []
    for unit in UNITS:
        name = unit.name.replace("@.", "@8001.")
        (tmp_path / name).write_text(unit.read_text().replace(SHIPPED_BINARY, str(franchise)))
        names.append(f"./{name}")
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *names],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Unknown keys and bad values are only warnings to systemd: any output is a failure here.
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


@pytest.mark.skipif(
    nginx_binary() is None, reason="nginx is not installed: run scripts/install_test_peers.sh"
)
def test_nginx_accepts_the_shipped_site(tmp_path: Path) -> None:
    checked = Nginx(tmp_path, [8001, 8002]).check()
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool is not installed (Debian package prometheus)"
)
def test_promtool_accepts_the_alert_rules() -> None:
    rules = DEPLOY / "prometheus" / "franchise-rules.yml"
    done = subprocess.run(
        ["promtool", "check", "rules", str(rules)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    names = {r["alert"] for g in _load(rules.read_text())["groups"] for r in g["rules"]}
    assert {"FranchiseInboxLagging", "FranchiseApprovalWaitingTooLong"} <= names


def test_the_compose_file_runs_postgres_the_app_workers_and_backups() -> None:
    compose = _load((DEPLOY / "container" / "compose.yaml").read_text())
    assert set(compose["services"]) == {"db", "web", "worker", "backup"}
    assert compose["services"]["backup"]["command"][0].startswith(
        "while true; do franchise backup --keep"
    )
    web_env = compose["services"]["web"]["environment"]
    assert web_env["FRANCHISE_INPROCESS_WORKER"] == "auto"
    assert web_env["FRANCHISE_DATABASE_URL"].startswith("postgresql://")
