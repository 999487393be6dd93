"""The bulk path writes what the one-by-one path writes: the same inbox applied both ways
(two integrations alike but for their name) leaves the same groups, tickets, history, PSA
outbox and inbox rows, ids and receipt times aside."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event, select

from franchise.alerts import worker
from franchise.alerts.models import AlertGroup, InboxItem, Integration
from franchise.alerts.service import add_mapping
from franchise.alerts.worker import process_pending
from franchise.clients.models import Endpoint
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.psa.models import WebhookEvent
from franchise.tickets.models import Ticket, TicketEvent
from franchise.tickets.service import change_ticket

MakeIntegration = Callable[..., tuple[Integration, str]]
Post = Callable[..., int]


def fire(key: str, title: str, **fields: Any) -> dict[str, Any]:
    return {"title": title, "dedup_key": key, "severity": "error", **fields}


def resolve(key: str) -> dict[str, Any]:
    return {"title": "resolved", "dedup_key": key, "status": "resolved"}


# Two rounds, each drained before the next is posted: the second finds the groups and
# tickets of the first in the database.
ROUNDS: list[list[list[dict[str, Any]]]] = [
    [
        [
            fire("disk-fs01", "Disk C: below 5% free", host="fs01.acme.local"),
            fire(
                "off-pc7",
                "Host is not reporting",
                host="DELTA-PC7",
                alert_type="rmm.device_offline",
            ),
            fire("disk-fs01", "Disk C: below 5% free", host="fs01.acme.local"),
        ],
        [
            fire(
                "backup",
                "Nightly backup job failed",
                alert_type="backup.job_failed",
                client="beta law",
            ),
            fire("cpu", "CPU above 95% for 15 minutes", host="mystery"),
            fire("label", "Printer is offline", labels={"customer": "beta", "site": "hq"}),
            resolve("never-fired"),
        ],
        [fire("disk-fs01", "Disk C: below 5% free", host="fs01.acme.local"), resolve("cpu")],
        [resolve("cpu"), fire("cpu", "CPU above 95% for 15 minutes", host="mystery")],
    ],
    [
        [
            fire("cpu", "CPU above 95% for 15 minutes", host="mystery"),
            resolve("backup"),
            fire(
                "off-pc7",
                "Host is not reporting",
                host="DELTA-PC7",
                alert_type="rmm.device_offline",
            ),
            fire("new-one", "VPN tunnel down", host="delta-pc7.delta.lan"),
        ],
        [
            fire(
                "backup",
                "Nightly backup job failed",
                alert_type="backup.job_failed",
                client="beta law",
            )
        ],
        [resolve("label")],
        [fire("label", "Printer is offline", labels={"customer": "beta", "site": "hq"})],
    ],
]


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many items each bulk transaction applied (`apply_parts`' answers)."""
    answers: list[int] = []
    real = worker.apply_parts

    def counting(*args: Any) -> int:
        answers.append(real(*args))
        return answers[-1]

    monkeypatch.setattr(worker, "apply_parts", counting)
    return answers


def world(db: Database) -> None:
    with db.unit_of_work() as session:
        acme = add_client(session, name="Acme Dental")
        add_client(session, name="Beta Law")
        delta = add_client(session, name="Delta Farm")
        session.add(Endpoint(client_id=delta.id, hostname="DELTA-PC7"))
        session.add(Endpoint(client_id=acme.id, hostname="FS01"))
        add_mapping(session, client="Beta Law", label="customer=beta")


def state(db: Database, integration_id: int) -> dict[str, Any]:
    """What the integration's alerts left, with ids and times made relative."""
    with db.unit_of_work() as session:
        items = list(
            session.scalars(
                select(InboxItem)
                .where(InboxItem.integration_id == integration_id)
                .order_by(InboxItem.id)
            )
        )
        times = {item.received_at: n for n, item in enumerate(items)}
        groups = list(
            session.scalars(
                select(AlertGroup)
                .where(AlertGroup.integration_id == integration_id)
                .order_by(AlertGroup.dedup_key)
            )
        )
        # The groups' tickets, and the earlier tickets their notes name.
        ticket_ids = {g.ticket_id for g in groups if g.ticket_id}
        while True:
            notes = session.scalars(
                select(TicketEvent.note).where(
                    TicketEvent.ticket_id.in_(ticket_ids),
                    TicketEvent.note.like("%previous ticket was #%"),
                )
            )
            named = {int(n.rsplit("#", 1)[1].rstrip(".")) for n in notes if n}
            if named <= ticket_ids:
                break
            ticket_ids |= named
        tickets = {
            t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))
        }
        # Tickets numbered by their group and order of opening.
        number = {
            tid: n for n, tid in enumerate(sorted(tickets, key=lambda i: (tickets[i].title, i)))
        }
        group_ids = {g.id: g.dedup_key for g in groups}

        def plain(text: str | None) -> str | None:
            if text is None:
                return None
            text = re.sub(
                r"'alert_group': (\d+)",
                lambda m: f"'alert_group': {group_ids.get(int(m[1]))}",
                text,
            )
            text = re.sub(r"#(\d+)", lambda m: f"#{number.get(int(m[1]))}", text)
            for at, n in times.items():
                text = text.replace(at.isoformat(), f"t{n}")
            # The time of processing (an auto-resolve's resolved_at).
            return re.sub(r"\d{4}-\d\d-\d\d[ T][\d:.]+\+00:00", "now", text)

        def when(at: datetime | None) -> int | None:
            return None if at is None else times[at]

        def fields(values: dict[str, Any]) -> dict[str, Any]:
            out = dict(values)
            if "alert_group" in out:
                out["alert_group"] = group_ids[out["alert_group"]]
            if "alert_last_seen" in out:
                out["alert_last_seen"] = plain(out["alert_last_seen"])
            return out

        return {
            "items": [(i.state, i.progress, i.error, i.alert_errors, i.attempts) for i in items],
            "groups": [
                (
                    g.dedup_key,
                    g.status,
                    g.count,
                    when(g.first_seen),
                    when(g.last_seen),
                    when(g.status_at),
                    when(g.resolved_at),
                    g.client_id,
                    g.site,
                    g.title,
                    g.host,
                    g.severity,
                    number.get(g.ticket_id) if g.ticket_id else None,
                    g.outage_id is not None,
                    plain(str(sorted((g.members or {}).items()))),
                )
                for g in groups
            ],
            "tickets": [
                {
                    "number": number[t.id],
                    "title": t.title,
                    "body": t.body,
                    "client": t.client_id,
                    "category": t.category,
                    "priority": t.priority,
                    "status": t.status,
                    "level": t.level,
                    "source": t.source,
                    "tags": t.tags,
                    "fields": fields(t.custom_fields),
                    "runbook": (t.runbook_key, t.runbook_source, t.category_by_hand),
                    "suggested": (t.suggested_runbook_key, t.suggestion_confidence),
                    "resolved": t.resolved_at is not None,
                    "history": [
                        (e.kind, e.field, plain(e.old_value), plain(e.new_value), plain(e.note))
                        for e in session.scalars(
                            select(TicketEvent)
                            .where(TicketEvent.ticket_id == t.id)
                            .order_by(TicketEvent.id)
                        )
                    ],
                    "outbox": [
                        (
                            w.payload["changes"],
                            {k: v for k, v in w.payload["ticket"].items() if k != "id"},
                        )
                        for w in session.scalars(
                            select(WebhookEvent)
                            .where(WebhookEvent.ticket_id == t.id)
                            .order_by(WebhookEvent.id)
                        )
                    ],
                }
                for t in sorted(tickets.values(), key=lambda t: number[t.id])
            ],
        }


@pytest.mark.parametrize("auto_resolve", [False, True], ids=["manual", "auto-resolve"])
def test_the_bulk_path_writes_what_the_one_by_one_path_writes(
    db: Database,
    starter: None,
    make_integration: MakeIntegration,
    post: Post,
    auto_resolve: bool,
    taken: list[int],
) -> None:
    world(db)
    bulk, _ = make_integration(name="monitor", auto_resolve=auto_resolve)
    one_by_one, _ = make_integration(name="monitor", auto_resolve=auto_resolve)
    reports: dict[bool, list[dict[str, object]]] = {True: [], False: []}
    # With auto-resolve, each item is drained alone: in a transaction where the bulk path
    # gives way (an auto-resolve), the tickets it opened have their escalation decided
    # before the items that follow are applied, not after as in a batch of the one-by-one
    # path, so the history orders differ there (the decisions do not).
    drains = [[item] for round_ in ROUNDS for item in round_] if auto_resolve else ROUNDS
    for bodies in drains:
        for integration, use_bulk in ((bulk, True), (one_by_one, False)):
            for body in bodies:
                post(integration, {"alerts": body})
            reports[use_bulk].append(
                process_pending(db, worker="w", budget=60.0, bulk=use_bulk).to_dict()
            )
    assert reports[True] == reports[False]
    assert state(db, bulk.id) == state(db, one_by_one.id)
    # What is compared is not nothing: tickets were opened, noted, reopened.
    tickets = state(db, bulk.id)["tickets"]
    assert len(tickets) >= 6
    notes = [h[4] for t in tickets for h in t["history"]]
    assert ("The alert is firing again." in notes) != auto_resolve
    # The bulk path took every item but those resolving an open ticket automatically.
    assert sum(taken) == (5 if auto_resolve else 8), taken
    assert any(n and n.startswith("This alert fired before") for n in notes) == auto_resolve


def test_a_storm_takes_a_few_statements_per_transaction(
    db: Database, starter: None, make_integration: MakeIntegration, post: Post
) -> None:
    """Not one statement (or flush) per alert: 200 alerts, a quarter of them repeats."""
    integration, _ = make_integration()
    for start in range(0, 200, 50):
        post(
            integration,
            {
                "alerts": [
                    fire(f"k{n % 150}", f"Service {n % 150} down", host=f"h{n}")
                    for n in range(start, start + 50)
                ]
            },
        )
    statements: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    event.listen(db.bind, "before_cursor_execute", count)
    try:
        report = process_pending(db, worker="w", budget=60.0)
    finally:
        event.remove(db.bind, "before_cursor_execute", count)
    assert report.outcomes == {"opened": 150, "deduplicated": 50}
    assert len(statements) < 60, statements
    with db.unit_of_work() as session:
        counts = sorted(session.scalars(select(AlertGroup.count)))
    assert sum(counts) == 200 and len(counts) == 150


def test_outage_correlation_below_its_threshold_stays_bulk_and_an_outage_does_not(
    db: Database,
    starter: None,
    make_integration: MakeIntegration,
    post: Post,
    taken: list[int],
) -> None:
    """Correlation is on (five groups of a client within ten minutes): the first four open
    tickets in bulk; the fifth opens an outage and the sixth joins it, one by one."""
    world(db)
    integration, _ = make_integration(name="monitor")
    for n in range(6):
        post(integration, {"alerts": [fire(f"svc{n}", f"Service {n} down", host="fs01")]})
        process_pending(db, worker="w", budget=60.0)
    assert taken == [1, 1, 1, 1, 0, 0]
    with db.unit_of_work() as session:
        groups = list(session.scalars(select(AlertGroup).order_by(AlertGroup.dedup_key)))
        assert len({g.outage_id for g in groups}) == 1 and groups[0].outage_id is not None
        tickets = list(session.scalars(select(Ticket).order_by(Ticket.id)))
    # Four tickets of their own, closed into the outage ticket when it opened.
    assert [t.status for t in tickets] == ["closed"] * 4 + ["new"]
    assert tickets[-1].title.startswith("Outage at Acme Dental")


def notification(group: str, site: str | None, *alerts: tuple[str, str]) -> dict[str, Any]:
    """An Alertmanager body of one notification group: (host, status) per alert."""
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{group}"}}',
        "status": "firing" if any(s == "firing" for _, s in alerts) else "resolved",
        "groupLabels": {"alertname": group},
        "alerts": [
            {
                "status": status,
                "labels": {
                    "alertname": group,
                    "instance": f"{host}:9100",
                    **({"site": site} if site else {}),
                },
                "annotations": {"summary": f"{group} down"},
                "fingerprint": f"fp-{group}-{host}",
            }
            for host, status in alerts
        ],
    }


def outage_firing(db: Database, integration_id: int, site: str) -> list[str]:
    """The hosts the site's outage ticket lists as still firing."""
    [outage] = [
        t
        for t in state(db, integration_id)["tickets"]
        if t["title"].startswith(f"Outage at site {site}")
    ]
    return [line.split(":")[0] for line in outage["fields"]["outage_still_firing"]]


CLOSE_Q1 = "a technician closes Q1's ticket"

# (group, its site or None, (host, status)...) per body; each round drained before the next.
GROUP_ROUNDS: list[list[tuple[str, str | None, list[tuple[str, str]]]] | str] = [
    # Four groups at the site open tickets of their own (the threshold is five).
    [
        ("G1", "SITE", [("a", "firing")]),
        ("G2", "SITE", [("b", "firing"), ("c", "firing")]),
        ("G3", "SITE", [("d", "firing")]),
        ("G4", "SITE", [("e", "firing")]),
        ("Q1", None, [("q", "firing"), ("r", "firing")]),
    ],
    # The fifth opens the outage, the sixth joins it: the one-by-one path.
    [("G5", "SITE", [("f", "firing")]), ("G6", "SITE", [("g", "firing")])],
    # The outage's children fire again; a group of no site has one of its two alerts
    # resolve.
    [
        ("G1", "SITE", [("a", "firing"), ("a2", "firing")]),
        ("Q1", None, [("q", "resolved"), ("r", "firing")]),
        ("G1", "SITE", [("a", "firing")]),
    ],
    # Alone: the outage's summary no longer lists it.
    [("G2", "SITE", [("b", "resolved")])],
    # The group of no site resolves; a child resolves into the outage (one by one).
    [("Q1", None, [("q", "resolved"), ("r", "resolved")]), ("G3", "SITE", [("d", "resolved")])],
    [("Q1", None, [("r", "firing")])],
    # In one transaction: the group resolves (its closed ticket shows it), then fires again
    # and opens a new ticket; the closed one keeps the count it had.
    [("Q1", None, [("r", "resolved")])],
    CLOSE_Q1,
    [("Q1", None, [("r", "resolved")]), ("Q1", None, [("r", "firing")])],
]


def test_notification_groups_and_outage_children_are_bulk_and_write_the_same(
    db: Database,
    starter: None,
    make_integration: MakeIntegration,
    post: Post,
    taken: list[int],
) -> None:
    """Alertmanager notification groups (the default grouping) with outage correlation on:
    the bulk path takes new groups, their members' changes and the outage's children; it
    leaves opening, joining and resolving into an outage to the one-by-one path. Each
    integration's alerts name a site of their own (correlation counts by site)."""
    bulk, _ = make_integration("alertmanager", name="prometheus")
    one_by_one, _ = make_integration("alertmanager", name="prometheus")
    sites = {True: "hq-b", False: "hq-o"}
    reports: dict[bool, list[dict[str, object]]] = {True: [], False: []}
    for bodies in GROUP_ROUNDS:
        if bodies == CLOSE_Q1:
            close_tickets(db, "Alert group alertname=Q1")
            continue
        assert not isinstance(bodies, str)
        for integration, use_bulk in ((bulk, True), (one_by_one, False)):
            for group, site, alerts in bodies:
                named = sites[use_bulk] if site else None
                post(integration, notification(group, named, *alerts))
            reports[use_bulk].append(
                process_pending(db, worker="w", budget=60.0, bulk=use_bulk).to_dict()
            )
            if bodies == [("G2", "SITE", [("b", "resolved")])]:
                # The outage's summary no longer lists the alert that resolved.
                assert "b" not in outage_firing(db, integration.id, sites[use_bulk])
    assert reports[True] == reports[False]
    both = {
        use_bulk: json.dumps(state(db, integration.id), default=str).replace(
            sites[use_bulk], "SITE"
        )
        for integration, use_bulk in ((bulk, True), (one_by_one, False))
    }
    assert both[True] == both[False]
    # Every round but those opening, joining or resolving into the outage was bulk.
    assert taken == [5, 0, 3, 1, 1, 1, 1, 2]
    # What is compared is not nothing: the outage lists what still fires, without the
    # child's alert that resolved; the group of no site shows its members.
    assert outage_firing(db, bulk.id, sites[True]) == ["a2", "a", "c", "e", "f", "g"]
    tickets = state(db, bulk.id)["tickets"]
    closed, own = [t for t in tickets if t["title"] == "Alert group alertname=Q1"]
    assert closed["status"] == "closed" and closed["fields"]["alert_count"] == 4
    assert closed["fields"]["alerts_still_firing"] == []
    assert [line.split(":")[0] for line in own["fields"]["alerts_still_firing"]] == ["r"]
    assert own["fields"]["alert_count"] == 1


def close_tickets(db: Database, title: str) -> None:
    with db.unit_of_work() as session:
        for ticket in session.scalars(select(Ticket).where(Ticket.title == title)):
            change_ticket(session, ticket, actor=None, note="done", status="closed")
