"""The real Prometheus Alertmanager posting to Franchise served by a real uvicorn server.

Needs Debian's prometheus-alertmanager (`apt-get install -y prometheus-alertmanager`); the
test fails, rather than skips, without it, so CI cannot silently lose it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from franchise.alerts import api as alerts_api
from franchise.alerts.models import AlertGroup
from franchise.alerts.service import add_integration
from franchise.app import create_app
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.migrate import upgrade
from franchise.settings import Settings
from franchise.tickets.models import Ticket

BINARY = "/usr/bin/prometheus-alertmanager"
TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def franchise_server(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[str, Database, str]]:
    """Franchise on a fresh SQLite file, served by uvicorn in a thread, with its drainer;
    its Alertmanager integration groups per alert unless the test asks for `group`."""
    group_by = getattr(request, "param", "alert")
    url = f"sqlite:///{tmp_path / 'peer.sqlite3'}"
    db = Database.from_url(url)
    upgrade(db)
    with db.unit_of_work() as session:
        initialise(session)  # the starter runbooks, so tickets get theirs attached
        _, token = add_integration(
            session, kind="alertmanager", auto_resolve=True, group_by=group_by
        )
    app = create_app(Settings(home=tmp_path, database_url=url), db=db)
    app.include_router(alerts_api.router, prefix="/api/v1")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, "uvicorn to start")
    try:
        yield f"http://127.0.0.1:{port}/api/v1/hooks/alertmanager/{token}", db, token
    finally:
        server.should_exit = True
        thread.join(10)
        db.dispose()


@pytest.fixture
def alertmanager(tmp_path: Path, franchise_server: tuple[str, Database, str]) -> Iterator[str]:
    binary = shutil.which("prometheus-alertmanager") or BINARY
    assert Path(binary).exists(), f"{BINARY} is missing: apt-get install -y prometheus-alertmanager"
    hook_url = franchise_server[0]
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        f"""
global:
  resolve_timeout: 1s
route:
  receiver: franchise
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 2s
receivers:
  - name: franchise
    webhook_configs:
      - url: "{hook_url}"
        send_resolved: true
"""
    )
    port = free_port()
    log = (tmp_path / "alertmanager.log").open("w")
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert proc.poll() is None, (tmp_path / "alertmanager.log").read_text()
        try:
            return httpx.get(f"{base}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready, "Alertmanager to be ready")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def post_alerts(base: str, alerts: list[dict[str, Any]]) -> None:
    response = httpx.post(f"{base}/api/v2/alerts", json=alerts, timeout=5)
    assert response.status_code == 200, response.text


def disk_alert(host: str, **times: str) -> dict[str, Any]:
    return {
        "labels": {
            "alertname": "DiskSpaceLow",
            "instance": f"{host}:9182",
            "severity": "critical",
            "alert_type": "disk.low_space",
        },
        "annotations": {"summary": "Disk C: below 5% free", "description": "C: is at 97%."},
        **times,
    }


@pytest.mark.slow
def test_alertmanager_opens_deduplicates_and_resolves_tickets(
    alertmanager: str, franchise_server: tuple[str, Database, str]
) -> None:
    _, db, _ = franchise_server
    now = datetime.now(UTC)
    started = (now - timedelta(minutes=1)).isoformat()
    # An explicit end in the future keeps them firing despite the short resolve_timeout.
    until = (now + timedelta(minutes=10)).isoformat()
    post_alerts(alertmanager, [disk_alert("fs01", startsAt=started, endsAt=until)])
    post_alerts(alertmanager, [disk_alert("fs01", startsAt=started, endsAt=until)])  # again
    post_alerts(alertmanager, [disk_alert("fs02", startsAt=started, endsAt=until)])

    def groups() -> dict[str, AlertGroup]:
        with db.unit_of_work() as session:
            return {g.host or "": g for g in session.scalars(select(AlertGroup))}

    def tickets() -> list[Ticket]:
        with db.unit_of_work() as session:
            return list(session.scalars(select(Ticket).order_by(Ticket.id)))

    # Alertmanager re-sends the firing group every repeat_interval: one ticket per alert,
    # its count going up.
    wait_for(
        lambda: len(g := groups()) == 2 and g["fs01"].count >= 2,
        "both alerts to arrive and fs01 to be de-duplicated",
    )
    opened = tickets()
    assert len(opened) == 2
    assert {t.title for t in opened} == {
        "Disk C: below 5% free on fs01",
        "Disk C: below 5% free on fs02",
    }
    assert {t.runbook_key for t in opened} == {"disk-space-low"}  # by its alert_type label
    assert {t.priority for t in opened} == {"critical"}

    ended = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    post_alerts(alertmanager, [disk_alert("fs01", startsAt=started, endsAt=ended)])

    def fs01_resolved() -> bool:
        return groups()["fs01"].status == "resolved"

    wait_for(fs01_resolved, "Alertmanager to deliver the resolved alert")
    by_host = {g.host: g.ticket_id for g in groups().values()}
    final = {t.id: t for t in tickets()}
    assert len(final) == 2  # no new ticket for the resolve or the repeats
    assert final[by_host["fs01"]].status == "resolved"  # auto_resolve on this integration
    assert final[by_host["fs02"]].status == "new"
    assert groups()["fs02"].status == "firing"


@pytest.mark.slow
@pytest.mark.parametrize("franchise_server", ["group"], indirect=True)
def test_alertmanager_notification_group_is_one_ticket_resolved_with_its_last_alert(
    alertmanager: str, franchise_server: tuple[str, Database, str]
) -> None:
    """The route groups by alertname: both hosts' disk alerts are one notification group,
    so one ticket, listing which still fire, resolved when the last one resolves."""
    _, db, _ = franchise_server
    now = datetime.now(UTC)
    started = (now - timedelta(minutes=1)).isoformat()
    until = (now + timedelta(minutes=10)).isoformat()
    post_alerts(
        alertmanager,
        [
            disk_alert("fs01", startsAt=started, endsAt=until),
            disk_alert("fs02", startsAt=started, endsAt=until),
        ],
    )

    def state() -> tuple[list[AlertGroup], list[Ticket]]:
        with db.unit_of_work() as session:
            return (
                list(session.scalars(select(AlertGroup))),
                list(session.scalars(select(Ticket).order_by(Ticket.id))),
            )

    def fields() -> dict[str, Any]:
        return dict(state()[1][0].custom_fields or {})

    wait_for(lambda: fields().get("alerts_firing") == 2 if state()[1] else False, "the group")
    groups, tickets = state()
    assert len(groups) == 1 and len(tickets) == 1
    # Alertmanager's commonAnnotations: the summary both alerts share.
    assert tickets[0].title == "Disk C: below 5% free"
    assert groups[0].dedup_key.startswith("group:")
    assert fields()["alert_hosts"] == ["fs01", "fs02"]

    ended = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    post_alerts(alertmanager, [disk_alert("fs01", startsAt=started, endsAt=ended)])
    wait_for(lambda: fields().get("alerts_resolved") == 1, "fs01 to resolve within the group")
    assert fields()["alerts_still_firing"] == ["fs02: Disk C: below 5% free on fs02"]
    groups, tickets = state()
    assert (groups[0].status, tickets[0].status) == ("firing", "new")

    post_alerts(alertmanager, [disk_alert("fs02", startsAt=started, endsAt=ended)])
    wait_for(lambda: state()[0][0].status == "resolved", "the whole group to resolve")
    groups, tickets = state()
    assert len(tickets) == 1
    assert tickets[0].status == "resolved"  # auto_resolve, once the last alert resolved
    assert fields()["alerts_firing"] == 0 and fields()["alerts_resolved"] == 2
