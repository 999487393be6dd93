"""franchise integration ..., franchise alert ... and franchise worker."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from franchise.alerts.models import Integration
from franchise.alerts.service import digest
from franchise.clients.service import add_client
from franchise.db import Database

Cli = Callable[..., Any]


def test_integration_add_shows_the_token_once_and_stores_its_hash(
    db: Database, alert_cli: Cli
) -> None:
    with db.unit_of_work() as session:
        add_client(session, name="Acme Dental")
    result = alert_cli(
        "integration", "add", "alertmanager", "--name", "Acme Prometheus",
        "--client", "Acme Dental", "--auto-resolve", "--base-url", "https://psa.example.com",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    token = data["token"]
    assert data["url"] == f"https://psa.example.com/api/v1/hooks/alertmanager/{token}"
    assert (data["client"], data["auto_resolve"], data["name"]) == (
        "Acme Dental",
        True,
        "Acme Prometheus",
    )
    with db.unit_of_work() as session:
        stored = session.get(Integration, data["id"])
        assert stored is not None and stored.token_hash == digest(token)
    listed = alert_cli("integration", "list", "--json")
    assert token not in listed.output
    assert json.loads(listed.output)[0]["token_prefix"] == token[:10]
    human = alert_cli("integration", "add", "generic")
    assert human.exit_code == 0 and "/api/v1/hooks/generic/frh_" in human.output


def test_integration_add_group_by(db: Database, alert_cli: Cli) -> None:
    default = json.loads(alert_cli("integration", "add", "alertmanager", "--json").output)
    per_alert = alert_cli("integration", "add", "alertmanager", "--group-by", "alert", "--json")
    assert (default["group_by"], json.loads(per_alert.output)["group_by"]) == ("group", "alert")
    bad = alert_cli("integration", "add", "alertmanager", "--group-by", "host")
    assert bad.exit_code == 2
    assert "unknown grouping 'host' (use group or alert)" in bad.output


def test_integration_revoke_and_unknown_kind(db: Database, alert_cli: Cli) -> None:
    created = json.loads(alert_cli("integration", "add", "zabbix", "--json").output)
    revoked = alert_cli("integration", "revoke", str(created["id"]), "--json")
    assert json.loads(revoked.output)["revoked_at"] is not None
    bad = alert_cli("integration", "add", "nagios")
    assert bad.exit_code == 2
    assert "unknown integration kind 'nagios'" in bad.output
    assert alert_cli("integration", "revoke", "999").exit_code == 1


def test_integration_map_mappings_and_unmap(db: Database, alert_cli: Cli) -> None:
    with db.unit_of_work() as session:
        add_client(session, name="Acme Dental")
    by_label = alert_cli(
        "integration", "map", "--label", "customer=acme", "--client", "Acme Dental", "--json"
    )
    by_host = alert_cli(
        "integration", "map", "--host-pattern", "*.ACME.local", "--client", "acme dental"
    )
    assert by_label.exit_code == 0 and by_host.exit_code == 0, by_host.output
    rows = json.loads(alert_cli("integration", "mappings", "--json").output)
    assert [(r["label"], r["host_pattern"], r["client"]) for r in rows] == [
        ("customer=acme", None, "Acme Dental"),
        (None, "*.acme.local", "Acme Dental"),
    ]
    neither = alert_cli("integration", "map", "--client", "Acme Dental")
    malformed = alert_cli("integration", "map", "--label", "customer", "--client", "Acme Dental")
    assert (neither.exit_code, malformed.exit_code) == (2, 2)
    assert "KEY=VALUE" in malformed.output
    assert alert_cli("integration", "unmap", str(rows[0]["id"])).exit_code == 0
    assert len(json.loads(alert_cli("integration", "mappings", "--json").output)) == 1


def test_worker_once_then_inbox_groups_and_triage(
    db: Database, alert_cli: Cli, make_integration: Callable[..., Any], post: Callable[..., int]
) -> None:
    integration, _ = make_integration()
    post(integration, {"title": "Router down", "host": "rtr1", "dedup_key": "r"})
    post(integration, {"title": "Router down", "host": "rtr1", "dedup_key": "r"})
    post(integration, b"not json")
    worked = alert_cli("worker", "--once", "--json")
    assert worked.exit_code == 0, worked.output
    report = json.loads(worked.output)
    assert (report["done"], report["alerts"], report["outcomes"]) == (
        2,
        2,
        {"deduplicated": 1, "opened": 1},
    )
    rejected = json.loads(
        alert_cli("alert", "inbox", "--state", "rejected", "--body", "--json").output
    )
    assert [(r["state"], r["body"]) for r in rejected] == [("rejected", "not json")]
    assert "not valid JSON" in rejected[0]["error"]
    groups = json.loads(alert_cli("alert", "groups", "--json").output)
    assert [(g["title"], g["count"], g["status"]) for g in groups] == [("Router down", 2, "firing")]
    triage = json.loads(alert_cli("alert", "triage", "--json").output)
    assert [(t["title"], t["count"], t["host"]) for t in triage] == [("Router down", 2, "rtr1")]
    for command in (
        ("alert", "inbox"),
        ("alert", "groups"),
        ("alert", "triage"),
        ("integration", "list"),
    ):
        result = alert_cli(*command)
        assert result.exit_code == 0, result.output
    assert alert_cli("alert", "inbox", "--state", "weird").exit_code == 2
