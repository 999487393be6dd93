"""Outage correlation: N new alert groups of one client or site within M minutes become
one outage ticket; later groups join it; children resolve into it; `outage: true` in the
escalation map."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from franchise.alerts.models import AlertGroup, AlertOutage, Integration
from franchise.alerts.outages import summary
from franchise.alerts.worker import Report
from franchise.clients.models import ClientContact
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.escalation.evaluate import TicketFacts, evaluate
from franchise.escalation.parse import parse_map
from franchise.escalation.service import save_map
from franchise.messages.models import TicketMessage
from franchise.orgsettings.service import set_setting
from franchise.settings import Settings
from franchise.tickets.models import Ticket, TicketEvent
from tests.messages.conftest import Collector, free_port

MakeIntegration = Callable[..., tuple[Integration, str]]
Post = Callable[..., int]
Drain = Callable[[], Report]


def down(host: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "HostDown", "instance": f"{host}:9100", **labels},
        "annotations": {"summary": "Host down"},
        "fingerprint": f"fp-{host}",
    }


def body(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {"version": "4", "status": "firing", "alerts": list(alerts)}


def tickets(db: Database) -> list[Ticket]:
    with db.unit_of_work() as session:
        return list(session.scalars(select(Ticket).order_by(Ticket.id)))


def outages(db: Database) -> list[AlertOutage]:
    with db.unit_of_work() as session:
        return list(session.scalars(select(AlertOutage).order_by(AlertOutage.id)))


@pytest.fixture
def acme(db: Database) -> int:
    with db.unit_of_work() as session:
        return add_client(session, name="Acme").id


def test_five_new_groups_of_a_site_open_one_outage_and_close_their_tickets(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain, acme: int
) -> None:
    integration, _ = make_integration("alertmanager", client="Acme", group_by="alert")
    post(integration, body(*(down(f"hq{n}", site="HQ") for n in range(4))))
    assert drain().outcomes == {"opened": 4}  # four: under the threshold of five
    assert len(tickets(db)) == 4 and outages(db) == []
    post(integration, body(down("hq4", site="HQ")))
    assert drain().outcomes == {"outage-opened": 1}
    [outage] = outages(db)
    assert (outage.scope, outage.client_id, outage.resolved_at) == ("site:HQ", acme, None)
    by_id = {t.id: t for t in tickets(db)}
    parent = by_id[outage.ticket_id or 0]
    assert parent.title == "Outage at site HQ: 5 hosts"
    assert "outage" in parent.tags and parent.priority == "critical"
    assert parent.custom_fields["outage_groups"] == 5
    assert parent.custom_fields["outage_still_firing"] == [
        f"hq{n}: Host down on hq{n}" for n in range(5)
    ]
    # The four tickets opened before the threshold closed into the outage.
    assert sorted(t.status for t in by_id.values() if t.id != parent.id) == ["closed"] * 4
    # A sixth host at the site joins; another site does not.
    post(integration, body(down("hq5", site="HQ"), down("branch1", site="Branch")))
    assert drain().outcomes == {"outage-joined": 1, "opened": 1}
    assert len(outages(db)) == 1
    assert {t.id: t for t in tickets(db)}[parent.id].title == "Outage at site HQ: 6 hosts"


def test_an_outage_of_notification_groups_counts_their_alerts_hosts(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain, acme: int
) -> None:
    """Each notification group holds many hosts' alerts: the outage counts and lists those
    hosts, not only the first host of each group."""
    integration, _ = make_integration("alertmanager", client="Acme")
    assert integration.group_by == "group"
    names = ["HostDown", "DiskFull", "ServiceDown", "HighCPU", "BackupFailed"]
    for name in names:
        alerts = [
            {
                "status": "resolved" if (name == "HighCPU" and n == 0) else "firing",
                "labels": {"alertname": name, "instance": f"hq{n}:9100", "site": "HQ"},
                "annotations": {"summary": f"{name} on hq{n}"},
                "fingerprint": f"{name}-hq{n}",
            }
            for n in range(6 if name == "HostDown" else 2)
        ]
        post(
            integration,
            {**body(*alerts), "groupKey": f'{{}}:{{site="HQ", alertname="{name}"}}'},
        )
    drain()
    [outage] = outages(db)
    parent = {t.id: t for t in tickets(db)}[outage.ticket_id or 0]
    assert parent.title == "Outage at site HQ: 6 hosts"
    fields = parent.custom_fields
    assert (fields["outage_groups"], fields["outage_hosts"]) == (5, 6)
    # Every alert still firing, by its own host; hq0's HighCPU has resolved.
    assert fields["outage_firing"] == 13
    assert "hq0: HighCPU on hq0" not in fields["outage_still_firing"]
    assert "hq1: HighCPU on hq1" in fields["outage_still_firing"]
    assert "hq5: HostDown on hq5" in fields["outage_still_firing"]


def test_an_outages_summary_lists_what_still_fires_by_host() -> None:
    firing, hosts = summary(
        [("Disk full", "srv1", "firing", None), ("Down", None, "resolved", None)]
    )
    assert (firing, hosts) == (["srv1: Disk full"], ["srv1"])


def test_children_resolve_into_the_parent_which_resolves_with_the_last(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain, acme: int
) -> None:
    integration, _ = make_integration(
        "alertmanager", client="Acme", group_by="alert", auto_resolve=True
    )
    with db.unit_of_work() as session:
        set_setting(session, "outage_alert_groups", 3)
    post(integration, body(*(down(f"h{n}") for n in range(3))))  # no site: the client's
    assert drain().outcomes == {"opened": 2, "outage-opened": 1}
    [outage] = outages(db)
    assert outage.scope == f"client:{acme}"
    post(integration, body(down("h0", "resolved"), down("h1", "resolved")))
    assert drain().outcomes == {"resolved-into-outage": 2}
    parent = {t.id: t for t in tickets(db)}[outage.ticket_id or 0]
    assert parent.status == "new"
    assert parent.custom_fields["outage_still_firing"] == ["h2: Host down on h2"]
    assert parent.custom_fields["outage_firing"] == 1
    # A repeat of a child still firing counts on its group, not a ticket of its own.
    post(integration, body(down("h2")))
    assert drain().outcomes == {"deduplicated": 1}
    post(integration, body(down("h2", "resolved")))
    assert drain().outcomes == {"outage-resolved": 1}
    parent = {t.id: t for t in tickets(db)}[outage.ticket_id or 0]
    assert parent.status == "resolved"
    assert outages(db)[0].resolved_at is not None
    # After the outage, a host firing again is a ticket of its own (one group: under 3).
    post(integration, body(down("h0")))
    assert drain().outcomes == {"opened": 1}


def test_groups_older_than_the_window_do_not_count(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain, acme: int
) -> None:
    integration, _ = make_integration("alertmanager", client="Acme", group_by="alert")
    post(integration, body(*(down(f"h{n}") for n in range(4))))
    drain()
    with db.unit_of_work() as session:
        for group in session.scalars(select(AlertGroup)):
            group.first_seen -= timedelta(minutes=11)  # the default window is 10 minutes
    post(integration, body(down("h4")))
    assert drain().outcomes == {"opened": 1}
    assert outages(db) == []


def test_a_client_may_turn_correlation_off_or_change_it(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain, acme: int
) -> None:
    integration, _ = make_integration("alertmanager", client="Acme", group_by="alert")
    from franchise.clients.models import Client

    with db.unit_of_work() as session:
        client = session.get(Client, acme)
        assert client is not None
        client.outage_alert_groups = 0
    post(integration, body(*(down(f"h{n}") for n in range(8))))
    assert drain().outcomes == {"opened": 8}
    with db.unit_of_work() as session:
        client = session.get(Client, acme)
        assert client is not None
        client.outage_alert_groups = 2
        client.outage_window_minutes = 1
    post(integration, body(down("x1", site="DC"), down("x2", site="DC")))
    assert drain().outcomes == {"opened": 1, "outage-opened": 1}


def test_the_escalation_map_can_route_outages() -> None:
    source = """
levels: [L1, L2, L3]
rules:
  - name: outages to L3
    when: {outage: true}
    to: L3
    reason: an outage touches many hosts
default: {to: L2, reason: the rest}
"""
    esc_map, problems = parse_map(source)
    assert problems == []
    assert esc_map is not None
    assert evaluate(esc_map, TicketFacts(outage=True)).to == "L3"
    assert evaluate(esc_map, TicketFacts(outage=False)).to == "L2"
    _, problems = parse_map(source.replace("outage: true", "outage: sometimes"))
    assert [p.message for p in problems] == ["rule 'outages to L3': 'outage' must be true or false"]


@pytest.fixture
def mail(db: Database, tmp_path: Path) -> Iterator[Collector]:
    """A loopback SMTP server, set up as the worker's mail server."""
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    db.session_info["franchise_settings"] = Settings(
        home=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        smtp_tls="none",
        smtp_from="Northwind IT <help@northwind-it.example>",
    )
    try:
        yield collector
    finally:
        controller.stop()


def events(db: Database, ticket_id: int, kind: str) -> list[str]:
    with db.unit_of_work() as session:
        return list(
            session.scalars(
                select(TicketEvent.note)
                .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == kind)
                .order_by(TicketEvent.id)
            )
        )


def test_the_client_gets_the_outage_message_once_when_the_outage_opens(
    db: Database,
    make_integration: MakeIntegration,
    post: Post,
    drain: Drain,
    acme: int,
    mail: Collector,
) -> None:
    with db.unit_of_work() as session:
        session.add_all(
            [
                ClientContact(client_id=acme, name="Front Desk", email="front@acme.example"),
                ClientContact(
                    client_id=acme, name="Dana Boss", email="dana@acme.example", is_primary=True
                ),
            ]
        )
        set_setting(session, "outage_alert_groups", 3)
    integration, _ = make_integration("alertmanager", client="Acme", group_by="alert")
    post(integration, body(*(down(f"hq{n}", site="HQ") for n in range(2))))
    assert drain().outcomes == {"opened": 2}
    assert mail.envelopes == []  # no outage yet: no outage message
    post(integration, body(down("hq2", site="HQ")))
    assert drain().outcomes == {"outage-opened": 1}
    [outage] = outages(db)
    parent = outage.ticket_id or 0
    # Sent after the commit, to the primary contact, with the summary the batch wrote.
    [envelope] = mail.envelopes
    assert envelope.rcpt_tos == ["dana@acme.example"]
    text = bytes(envelope.content or b"").decode()
    assert f"Subject: [#{parent}] Service disruption: Outage at site HQ: 3 hosts" in text
    assert "We are aware of a problem affecting Acme" in text
    with db.unit_of_work() as session:
        [message] = session.scalars(select(TicketMessage))
        assert (message.ticket_id, message.stage, message.template_key) == (
            parent,
            "outage",
            "service-outage",
        )
        assert (message.status, message.author_id) == ("sent", None)
    assert events(db, parent, "message_queued") == [
        f"Outage message queued for dana@acme.example: "
        f"[#{parent}] Service disruption: Outage at site HQ: 3 hosts"
    ]
    [sent] = events(db, parent, "message")
    assert sent.startswith(
        f"e-mailed dana@acme.example: [#{parent}] Service disruption: Outage at site HQ: 3 hosts\n"
    )
    assert "We are aware of a problem affecting Acme" in sent
    # A group joining the open outage tells the client nothing new.
    post(integration, body(down("hq3", site="HQ")))
    assert drain().outcomes == {"outage-joined": 1}
    assert len(mail.envelopes) == 1


def test_an_outage_message_that_cannot_go_is_noted_and_the_outage_still_opens(
    db: Database,
    make_integration: MakeIntegration,
    post: Post,
    drain: Drain,
    acme: int,
    mail: Collector,
) -> None:
    with db.unit_of_work() as session:
        set_setting(session, "outage_alert_groups", 2)
    integration, _ = make_integration("alertmanager", client="Acme", group_by="alert")
    post(integration, body(down("a1", site="HQ"), down("a2", site="HQ")))
    assert drain().outcomes == {"opened": 1, "outage-opened": 1}
    [outage] = outages(db)
    assert events(db, outage.ticket_id or 0, "message_skipped") == [
        "Outage message not sent: client 'Acme' has no contact with an e-mail address; "
        "add one or give a recipient address"
    ]
    assert mail.envelopes == []
    with db.unit_of_work() as session:
        assert list(session.scalars(select(TicketMessage))) == []


def test_the_escalation_maps_outage_condition_decides_for_outage_tickets(
    db: Database, make_integration: MakeIntegration, post: Post, drain: Drain, acme: int
) -> None:
    with db.unit_of_work() as session:
        save_map(
            session,
            """
levels: [L1, L2, L3]
rules:
  - name: outages to L3
    when: {outage: true}
    to: L3
    emergency: true
    reason: an outage touches many hosts
default: {to: L2, reason: the rest}
""",
        )
        set_setting(session, "outage_alert_groups", 3)
    integration, _ = make_integration("alertmanager", client="Acme", group_by="alert")
    post(integration, body(down("b0", site="Branch")))
    post(integration, body(down("h0", site="HQ"), down("h1", site="HQ"), down("h2", site="HQ")))
    assert drain().outcomes == {"opened": 3, "outage-opened": 1}
    [outage] = outages(db)
    by_id = {t.id: t for t in tickets(db)}
    parent = by_id[outage.ticket_id or 0]
    assert "escalate:L3" in parent.tags
    assert parent.custom_fields["escalation_allowed"] == "yes"
    assert "escalation check: outages to L3" in events(db, parent.id, "changed")
    # A ticket of its own (the branch's one group) is not an outage: the default decides.
    [branch] = [t for t in by_id.values() if t.title.startswith("Host down on b0")]
    assert "escalate:L2" in branch.tags and "escalate:L3" not in branch.tags
