"""/metrics and readiness on the test database: the numbers worked out by hand from rows
written here, the token guarding them, and JSON log lines."""

from __future__ import annotations

import json
import logging
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from franchise.accounts.service import add_staff
from franchise.alerts.models import InboxItem
from franchise.alerts.service import add_integration
from franchise.app import create_app
from franchise.approvals.models import ApprovalRequest
from franchise.db import Database, utcnow
from franchise.ops.api import collect
from franchise.ops.heartbeat import (
    ALIVE_FOR,
    SERVE_AUTO,
    SERVE_ON,
    WORKER,
    RollCall,
    alive,
    beat,
    serve_drainers_on,
    sign_off,
)
from franchise.ops.logs import JsonFormatter
from franchise.ops.metrics import LatencyHistogram, render_samples
from franchise.ops.readiness import check_ready
from franchise.ops.schema import shipped_revisions
from franchise.settings import Settings
from franchise.tickets.models import Ticket

TOKEN = "metrics-test-token"


def _values(session: Session, now_offset: timedelta = timedelta(0)) -> dict[str, float]:
    lines = render_samples(collect(session, now=utcnow() + now_offset))
    found: dict[str, float] = {}
    for line in lines:
        if not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


def test_inbox_depth_lag_and_processed_counts_come_from_the_rows(session: Session) -> None:
    integration, _ = add_integration(session, kind="generic", name="Metrics")
    now = utcnow()
    rows = [  # (state, seconds ago, alerts)
        ("pending", 120, 1),
        ("processing", 30, 1),
        ("done", 600, 3),
        ("done", 500, 2),
        ("failed", 400, 1),
    ]
    for state, ago, alerts in rows:
        session.add(
            InboxItem(
                integration_id=integration.id,
                kind="generic",
                received_at=now - timedelta(seconds=ago),
                headers={},
                body="{}",
                alert_count=alerts,
                state=state,
                attempts=1,
            )
        )
    session.flush()
    values = _values(session)
    assert values['franchise_inbox_items{state="pending"}'] == 1
    assert values['franchise_inbox_items{state="rejected"}'] == 0
    assert values["franchise_inbox_depth"] == 2
    # The oldest waiting item is the pending one, 120 s old; done items do not count.
    assert 120 <= values["franchise_inbox_lag_seconds"] < 125
    assert values["franchise_inbox_processed_total"] == 2
    assert values["franchise_alerts_processed_total"] == 5


def test_an_empty_inbox_has_no_lag(session: Session) -> None:
    values = _values(session)
    assert (values["franchise_inbox_depth"], values["franchise_inbox_lag_seconds"]) == (0, 0)


def test_open_tickets_by_level_and_approvals_waiting_with_their_age(session: Session) -> None:
    tess = add_staff(
        session, name="Tess", email="tess@metrics.example", role="technician", level="L1"
    )
    for level, status in [
        ("L1", "new"),
        ("L1", "in_progress"),
        ("L1", "resolved"),
        ("owner", "escalated"),
        ("L2", "closed"),
    ]:
        session.add(Ticket(title=f"{level} {status}", level=level, status=status))
    now = utcnow()
    for level, status, hours in [
        ("owner", "pending", 3),
        ("L2", "pending", 1),
        ("L2", "approved", 9),
    ]:
        session.add(
            ApprovalRequest(
                action="Replace the switch",
                cost=Decimal(100),
                requester_id=tess.id,
                status=status,
                approver_level=level,
                created_at=now - timedelta(hours=hours),
            )
        )
    session.flush()
    values = _values(session)
    assert values['franchise_tickets_open{level="L1"}'] == 2
    assert values['franchise_tickets_open{level="owner"}'] == 1
    assert 'franchise_tickets_open{level="L2"}' not in values
    assert values["franchise_owner_waiting_tickets"] == 1
    assert values['franchise_approvals_pending{approver_level="owner"}'] == 1
    assert values['franchise_approvals_pending{approver_level="L2"}'] == 1
    assert 10800 <= values["franchise_approvals_pending_oldest_seconds"] < 10805
    assert 10800 <= values["franchise_owner_approvals_oldest_seconds"] < 10805


def test_processors_count_as_alive_for_thirty_seconds_after_their_last_beat(
    session: Session,
) -> None:
    now = utcnow()
    beat(session, "host:1:worker", kind=WORKER, now=now)
    beat(session, "host:2:serve", kind=SERVE_AUTO, now=now - ALIVE_FOR - timedelta(seconds=1))
    assert alive(session, kind=WORKER, now=now + ALIVE_FOR) == 1
    assert alive(session, kind=WORKER, now=now + ALIVE_FOR + timedelta(seconds=1)) == 0
    assert alive(session, kind=SERVE_AUTO, now=now) == 0
    beat(session, "host:1:worker", kind=WORKER, processed=7, now=now + timedelta(seconds=40))
    assert alive(session, kind=WORKER, now=now + timedelta(seconds=60)) == 1


def test_metrics_need_the_token_and_speak_the_prometheus_text_format(
    db: Database, tmp_path: Path
) -> None:
    off = create_app(Settings(home=tmp_path), db=db)
    with TestClient(off) as client:
        assert client.get("/metrics").status_code == 404
    app = create_app(Settings(home=tmp_path, metrics_token=TOKEN), db=db)
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        client.get("/api/v1/health")
        client.get("/api/v1/tickets/12345")
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = answer.text
    assert "# TYPE franchise_inbox_lag_seconds gauge" in text
    assert "# TYPE franchise_http_request_duration_seconds histogram" in text
    # Labelled by the route's template, never by the id in the path.
    assert 'route="/api/v1/tickets/{ticket_id}",status="4xx"' in text
    assert "12345" not in text


def test_the_latency_histogram_puts_each_request_in_every_bucket_at_or_above_it() -> None:
    histogram = LatencyHistogram()
    histogram.observe("GET", "/queue", 200, 0.01)  # exactly on a bucket edge: counts in it
    histogram.observe("GET", "/queue", 201, 0.3)
    lines = histogram.render()
    series = 'method="GET",route="/queue",status="2xx"'
    assert f'franchise_http_request_duration_seconds_bucket{{{series},le="0.005"}} 0' in lines
    assert f'franchise_http_request_duration_seconds_bucket{{{series},le="0.01"}} 1' in lines
    assert f'franchise_http_request_duration_seconds_bucket{{{series},le="0.25"}} 1' in lines
    assert f'franchise_http_request_duration_seconds_bucket{{{series},le="0.5"}} 2' in lines
    assert f'franchise_http_request_duration_seconds_bucket{{{series},le="+Inf"}} 2' in lines
    assert f"franchise_http_request_duration_seconds_sum{{{series}}} 0.310000" in lines


def test_ready_when_the_schema_is_current_and_not_when_the_database_is_unreachable(
    db: Database, tmp_path: Path
) -> None:
    assert check_ready(db) == {
        "ready": True,
        "reasons": [],
        "schema_revision": shipped_revisions()[0],
    }
    with TestClient(create_app(Settings(home=tmp_path), db=db)) as client:
        assert client.get("/api/v1/ready").json()["ok"] is True
    # Nothing listens on port 1: the database is unreachable.
    gone = Database.from_url("postgresql://franchise@127.0.0.1:1/franchise")
    try:
        report = check_ready(gone)
        assert report["ready"] is False
        assert report["reasons"] == ["database unreachable: OperationalError"]
        with TestClient(create_app(Settings(home=tmp_path), db=gone)) as client:
            answer = client.get("/api/v1/ready")
        assert answer.status_code == 503
        assert answer.json()["ok"] is False
    finally:
        gone.dispose()


def test_json_log_lines_carry_the_message_extras_and_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "franchise.test", logging.ERROR, __file__, 1, "item %s failed", (7,), sys.exc_info()
        )
    record.inbox_id = 7
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "error"
    assert line["logger"] == "franchise.test"
    assert line["message"] == "item 7 failed"
    assert line["inbox_id"] == 7
    assert "ValueError: boom" in line["exception"]


def test_an_auto_in_process_worker_stands_aside_while_a_worker_lives_and_takes_over_after(
    db: Database,
) -> None:
    with db.unit_of_work() as session:
        beat(session, "host:9:worker", kind=WORKER)
    seconds = [0.0]
    serve_auto = RollCall(db, "host:1:serve", kind=SERVE_AUTO, clock=lambda: seconds[0])
    serve_on = RollCall(db, "host:2:serve", kind=SERVE_ON)
    assert serve_auto.should_drain() is False
    assert serve_on.should_drain() is True  # `on` drains beside workers (and is warned about)
    assert serve_drainers_on(db) == 1
    with db.unit_of_work() as session:
        sign_off(session, "host:9:worker")
    # The decision holds until the next look at the roll call, 5 s (BEAT_EVERY) later.
    seconds[0] = 4.9
    assert serve_auto.should_drain() is False
    seconds[0] = 5.0
    assert serve_auto.should_drain() is True
    with db.unit_of_work() as session:
        assert alive(session, kind=SERVE_AUTO) == 1
