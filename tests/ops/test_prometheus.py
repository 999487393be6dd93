"""Debian's Prometheus scrapes a real `franchise serve` with the shipped scrape settings and
alert rules; FranchiseInboxLagging fires when a webhook body has waited ten minutes."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from franchise.alerts.models import InboxItem
from franchise.db import utcnow
from tests.ops.support import DEPLOY, Process, Serve
from tests.reliability.faults_support import (
    BACKENDS,
    free_port,
    observer,
    provision,
    scratch_database,
    wait_for,
)

TOKEN = "prometheus-test-token"
PROMETHEUS = shutil.which("prometheus")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        PROMETHEUS is None, reason="prometheus is not installed: run scripts/install_test_peers.sh"
    ),
]


@pytest.fixture(params=BACKENDS)
def lagging_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Serve]:
    """A server whose inbox holds one body received ten minutes ago, nobody processing it."""
    from datetime import timedelta

    with scratch_database(request.param, tmp_path) as url:
        tenant = provision(url, tmp_path)
        db = observer(url)
        try:
            with db.unit_of_work() as session:
                from sqlalchemy import select

                from franchise.alerts.models import Integration

                integration_id = session.scalar(select(Integration.id))
                session.add(
                    InboxItem(
                        integration_id=integration_id,
                        kind="generic",
                        received_at=utcnow() - timedelta(minutes=10),
                        headers={},
                        body='{"title": "Disk full", "dedup_key": "disk"}',
                        alert_count=1,
                        state="pending",
                        attempts=0,
                    )
                )
        finally:
            db.dispose()
        server = Serve(
            tenant.url,
            tmp_path,
            tmp_path / "serve.log",
            FRANCHISE_METRICS_TOKEN=TOKEN,
            FRANCHISE_INPROCESS_WORKER="off",
        )
        try:
            yield server.start()
        finally:
            server.stop()


def _config(folder: Path, target: str) -> Path:
    """The shipped scrape job and rules, with test timings: scrape and evaluate every
    second, and the lag rule's `for: 2m` shortened to 1s (its threshold is untouched)."""
    rules = (DEPLOY / "prometheus" / "franchise-rules.yml").read_text()
    lagging = rules.index("alert: FranchiseInboxLagging")
    window = rules.index("for: 2m", lagging)
    rules = rules[:window] + "for: 1s" + rules[window + len("for: 2m") :]
    (folder / "rules.yml").write_text(rules)
    (folder / "token").write_text(TOKEN)
    shipped = (DEPLOY / "prometheus" / "prometheus.yml").read_text()
    replacements = {
        "/etc/prometheus/franchise-rules.yml": str(folder / "rules.yml"),
        "/etc/prometheus/franchise-metrics-token": str(folder / "token"),
        'targets: ["127.0.0.1:8001", "127.0.0.1:8002"]': f'targets: ["{target}"]',
        "scrape_interval: 30s": "scrape_interval: 1s",
    }
    for old, new in replacements.items():
        assert old in shipped, f"the shipped prometheus.yml no longer has {old!r}"
        shipped = shipped.replace(old, new)
    config = folder / "prometheus.yml"
    config.write_text("global:\n  evaluation_interval: 1s\n" + shipped)
    return config


def test_the_shipped_lag_rule_fires_when_the_inbox_lags(
    lagging_server: Serve, tmp_path: Path
) -> None:
    assert PROMETHEUS is not None
    folder = tmp_path / "prometheus"
    folder.mkdir()
    port = free_port()
    prometheus = Process(
        [
            PROMETHEUS,
            f"--config.file={_config(folder, f'127.0.0.1:{lagging_server.port}')}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        folder / "prometheus.log",
    ).start()
    api = f"http://127.0.0.1:{port}/api/v1"
    firing: dict[str, Any] = {}
    try:

        def fired() -> bool:
            if not prometheus.running():
                raise AssertionError(f"prometheus exited:\n{prometheus.logs()}")
            try:
                alerts = httpx.get(f"{api}/alerts", timeout=5).json()["data"]["alerts"]
            except (httpx.HTTPError, ValueError, KeyError):
                return False
            firing.update({a["labels"]["alertname"]: a for a in alerts if a["state"] == "firing"})
            return "FranchiseInboxLagging" in firing

        started = time.monotonic()
        wait_for(fired, 90, "FranchiseInboxLagging to fire", step=0.5)
        targets = httpx.get(f"{api}/targets", timeout=5).json()["data"]["activeTargets"]
        lag = httpx.get(f"{api}/query", params={"query": "franchise_inbox_lag_seconds"}, timeout=5)
    finally:
        prometheus.stop()
    print(f"\nfired {time.monotonic() - started:.1f}s after Prometheus started")
    assert [t["health"] for t in targets] == ["up"]
    value = float(lag.json()["data"]["result"][0]["value"][1])
    assert 600 <= value < 700
    assert firing["FranchiseInboxLagging"]["labels"]["severity"] == "critical"
    # No approval waits: the approval rule stays quiet.
    assert "FranchiseApprovalWaitingTooLong" not in firing
