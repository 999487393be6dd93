"""How much of the inbox one claim takes, and how much one transaction applies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from franchise.alerts import worker as worker_module
from franchise.alerts.bulk import Pace
from franchise.alerts.inbox import claim, claimable, renew
from franchise.alerts.models import InboxItem, Integration
from franchise.alerts.worker import process_pending
from franchise.db import Database

MakeIntegration = Callable[..., tuple[Integration, str]]
Post = Callable[..., int]


def alerts(*keys: str) -> list[dict[str, Any]]:
    return [{"title": f"Service {key} down", "dedup_key": key} for key in keys]


def test_claimable_takes_the_oldest_items_up_to_the_alerts_and_always_one() -> None:
    candidates = [(1, 1), (2, 1), (3, 3), (4, 1)]
    assert claimable(candidates, 2) == [1, 2]
    assert claimable(candidates, 5) == [1, 2, 3]  # 1 + 1 + 3: exactly the limit
    assert claimable(candidates, 6) == [1, 2, 3, 4]
    # The oldest first, even when a later one would fit: items are processed in order.
    assert claimable([(1, 1), (2, 9), (3, 1)], 3) == [1]
    # An item larger than a whole claim is still taken (and applied in parts).
    assert claimable([(7, 5000), (8, 1)], 1000) == [7]
    # An item without alerts still counts: a claim of them ends.
    assert claimable([(1, 0), (2, 0), (3, 0)], 2) == [1, 2]
    assert claimable(candidates, None) == [1, 2, 3, 4]
    assert claimable([], 10) == []


def test_a_claim_holds_as_many_items_as_its_alerts_allow(
    db: Database, make_integration: MakeIntegration, post: Post
) -> None:
    integration, _ = make_integration()
    small = [post(integration, alerts(f"s{n}")) for n in range(3)]
    large = post(integration, alerts(*(f"l{n}" for n in range(5))))
    last = post(integration, alerts("t"))
    with db.unit_of_work() as session:
        assert claim(session, worker="a", batch=100, alerts=2, lease_seconds=60) == small[:2]
    with db.unit_of_work() as session:
        # One alert left under the limit of three: the five-alert item waits for a claim
        # of its own.
        assert claim(session, worker="a", batch=100, alerts=3, lease_seconds=60) == small[2:]
    with db.unit_of_work() as session:
        assert claim(session, worker="a", batch=100, alerts=3, lease_seconds=60) == [large]
    with db.unit_of_work() as session:
        assert claim(session, worker="b", batch=100, alerts=3, lease_seconds=60) == [last]
        assert claim(session, worker="b", batch=100, alerts=3, lease_seconds=60) == []
    with db.unit_of_work() as session:
        claimed = {
            row.id: (row.state, row.claimed_by, row.attempts)
            for row in session.scalars(select(InboxItem))
        }
    assert claimed == {
        **{item: ("processing", "a", 1) for item in [*small, large]},
        last: ("processing", "b", 1),
    }


def test_one_claim_and_one_transaction_take_many_one_alert_webhooks(
    db: Database, make_integration: MakeIntegration, post: Post, request: pytest.FixtureRequest
) -> None:
    integration, _ = make_integration()
    for n in range(60):
        post(integration, alerts(f"k{n % 40}"))
    units: list[int] = request.getfixturevalue("units_of_work")
    report = process_pending(db, worker="w", budget=60.0)
    # (suggest index check, claim) twice, the second finding nothing, and one processing
    # transaction: sixty webhooks of one alert are one claim, not three claims of twenty.
    assert len(units) == 5
    assert (report.claimed, report.done, report.alerts) == (60, 60, 60)
    assert report.outcomes == {"opened": 40, "deduplicated": 20}


def test_a_small_cap_that_is_filled_grows_with_the_measured_rate() -> None:
    pace = Pace(rate=250.0)
    cap = pace.cap(0.05)
    assert cap == 12
    # A transaction that took all twelve alerts in 6 ms: 2,000 alerts/s.
    pace.measured(12, 0.006, cap)
    assert pace.rate == pytest.approx(1125.0)
    assert pace.cap(0.05) == 56
    # The tail of an item, far below its cap, says little about an alert's cost: not counted.
    pace.measured(3, 0.02, pace.cap(0.05))
    assert pace.rate == pytest.approx(1125.0)


def test_renewing_a_claim_restarts_the_lease_of_this_workers_items_only(
    db: Database, make_integration: MakeIntegration, post: Post
) -> None:
    integration, _ = make_integration()
    ours = [post(integration, alerts(f"k{n}")) for n in range(2)]
    theirs = post(integration, alerts("other"))
    then = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    later = then + timedelta(seconds=45)
    with db.unit_of_work() as session:
        assert claim(session, worker="a", batch=2, lease_seconds=60, now=then) == ours
        assert claim(session, worker="b", batch=2, lease_seconds=60, now=then) == [theirs]
    with db.unit_of_work() as session:
        assert renew(session, [*ours, theirs], worker="a", now=later) == 2
    with db.unit_of_work() as session:
        # The lease runs from the renewal: at 60 s after the claim, ours are not taken again.
        at_expiry = then + timedelta(seconds=61)
        assert claim(session, worker="c", batch=10, lease_seconds=60, now=at_expiry) == [theirs]
        leases = {
            row.id: row.claimed_at
            for row in session.execute(select(InboxItem.id, InboxItem.claimed_at))
        }
    assert {leases[i].replace(tzinfo=UTC) for i in ours} == {later}


def test_a_drain_renews_its_claim_while_it_works_through_it(
    db: Database, make_integration: MakeIntegration, post: Post, monkeypatch: pytest.MonkeyPatch
) -> None:
    integration, _ = make_integration()
    for n in range(3):
        post(integration, alerts(f"k{n}"))
    renewed: list[list[int]] = []
    real = worker_module.renew

    def recording(session: Any, ids: Any, *, worker: str) -> int:
        renewed.append(list(ids))
        return real(session, ids, worker=worker)

    monkeypatch.setattr(worker_module, "renew", recording)
    # A budget of nothing: one alert per transaction; a lease so short that half of it has
    # always passed: the items still waiting are renewed before every transaction.
    report = process_pending(db, worker="w", budget=0.0, lease_seconds=1e-9)
    assert (report.done, report.alerts) == (3, 3)
    assert [len(ids) for ids in renewed] == [3, 2, 1]
