"""Every webhook format, parsed from real-format fixtures into normalized alerts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from franchise.integrations import KINDS, check_payload, load_json, parse_payload
from franchise.integrations.normalized import MalformedPayload, NormalizedAlert
from franchise.integrations.pagerduty.parser import routing_key

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"


def fixture(path: str) -> Any:
    return json.loads((FIXTURES / path).read_text())


def parse(kind: str, path: str) -> list[NormalizedAlert]:
    return parse_payload(kind, fixture(path))


def test_every_fixture_folder_is_a_known_kind() -> None:
    assert {p.name for p in FIXTURES.iterdir() if p.is_dir()} == set(KINDS)


def test_alertmanager_alerts_keep_fingerprint_labels_and_host() -> None:
    first, second = parse("alertmanager", "alertmanager/zulip_alert.json")
    assert first.dedup_key == "a1bc48475b20e73d"
    assert second.dedup_key == "c2ea85182f28cbd9"
    assert first.status == "firing"
    assert first.title == "High CPU core temperature on andromeda"
    assert first.severity == "critical"
    assert first.host == "andromeda"
    assert first.labels["alertname"] == "High CPU Temperature"
    assert "CPU core temperature is 34.75C" in first.body
    assert first.alert_type is None


def test_alertmanager_without_fingerprint_is_keyed_by_its_label_set() -> None:
    alerts = parse("alertmanager", "alertmanager/msteams_prom_post_request_2_alerts.json")
    assert [a.title for a in alerts] == ["Server High Memory usage"] * 2
    assert all(a.dedup_key.startswith("labels:") for a in alerts)
    assert alerts[0].dedup_key != alerts[1].dedup_key
    # The same label set always gives the same key (a re-sent notification de-duplicates).
    again = parse("alertmanager", "alertmanager/msteams_prom_post_request_2_alerts.json")
    assert [a.dedup_key for a in again] == [a.dedup_key for a in alerts]
    # Alerts without their own status take the group's.
    assert {a.status for a in alerts} == {"firing"}
    assert alerts[0].severity == "warning"  # no severity label: the default


def test_alertmanager_large_payload_parses_every_alert() -> None:
    alerts = parse("alertmanager", "alertmanager/msteams_large_prom_post_request.json")
    assert len(alerts) == 19
    assert len({a.dedup_key for a in alerts}) == 19
    assert {a.severity for a in alerts} == {"critical"}  # severity "page"


def test_alertmanager_alert_type_label_names_the_runbook_alert_type() -> None:
    body = {
        "version": "4",
        "status": "resolved",
        "alerts": [
            {
                "status": "resolved",
                "labels": {
                    "alertname": "DiskLow",
                    "alert_type": "disk.low_space",
                    "instance": "fs01:9100",
                },
                "annotations": {},
                "fingerprint": "abc",
            }
        ],
    }
    (alert,) = parse_payload("alertmanager", body)
    assert (alert.status, alert.alert_type, alert.host, alert.title) == (
        "resolved",
        "disk.low_space",
        "fs01",
        "DiskLow on fs01",
    )


def test_grafana_unified_alerting_payload() -> None:
    (alert,) = parse("grafana", "grafana/zulip_alert_new.json")
    assert alert.dedup_key == "57c6d9296de2ad39"
    assert alert.status == "resolved"
    assert alert.title == "Notification test on Grafana"
    assert alert.host == "Grafana"
    assert alert.labels == {"alertname": "TestAlert", "instance": "Grafana"}


def test_grafana_legacy_alert_is_keyed_by_rule() -> None:
    body = {
        "title": "[Alerting] Disk full",
        "ruleId": 7,
        "ruleName": "Disk full",
        "state": "alerting",
        "message": "C: at 98%",
        "tags": {"severity": "critical", "host": "fs01"},
    }
    (alert,) = parse_payload("grafana", body)
    assert (alert.dedup_key, alert.status, alert.severity, alert.host) == (
        "rule:7",
        "firing",
        "critical",
        "fs01",
    )
    ok = parse_payload("grafana", {**body, "state": "ok"})
    assert ok[0].status == "resolved" and ok[0].dedup_key == "rule:7"
    assert parse_payload("grafana", {**body, "state": "paused"}) == []


def test_zabbix_problem_and_recovery_share_the_trigger_key() -> None:
    (problem,) = parse("zabbix", "zabbix/zulip_zabbix_alert.json")
    (disaster,) = parse("zabbix", "zabbix/zulip_zabbix_alert_disaster.json")
    (ok,) = parse("zabbix", "zabbix/zulip_zabbix_ok.json")
    assert problem.dedup_key == ok.dedup_key == "trigger:14032:www.example.com"
    assert (problem.status, ok.status) == ("firing", "resolved")
    assert problem.title == "Zabbix agent on www.example.com is unreachable for 5 minutes"
    assert problem.host == "www.example.com"
    assert (problem.severity, disaster.severity) == ("error", "critical")  # Average, Disaster
    assert "Agent ping is Up (1)" in problem.body


def test_zabbix_without_ids_keys_by_host_and_item() -> None:
    body = {
        "hostname": "h1",
        "severity": "High",
        "status": "PROBLEM",
        "item": "ping",
        "trigger": "x",
    }
    (alert,) = parse_payload("zabbix", body)
    (ok,) = parse_payload("zabbix", {**body, "status": "OK", "trigger": "h1 is back"})
    assert alert.dedup_key == ok.dedup_key == "host:h1:ping"


def test_uptimerobot_monitor_down() -> None:
    (alert,) = parse("uptimerobot", "uptimerobot/zulip_uptimerobot_monitor_down.json")
    assert alert.dedup_key == "monitor:server1.example.com:down"
    assert alert.status == "firing"
    assert alert.title == "Web Server is down (server1.example.com)"
    assert alert.severity == "error"
    assert alert.host == "server1.example.com"
    assert alert.body == "Host Is Unreachable"
    assert alert.alert_type == "uptimerobot.down"
    up = {**fixture("uptimerobot/zulip_uptimerobot_monitor_down.json"), "alert_type": "2"}
    assert parse_payload("uptimerobot", up)[0].status == "resolved"
    assert parse_payload("uptimerobot", up)[0].dedup_key == alert.dedup_key


def test_pagerduty_events_v2_trigger_and_resolve() -> None:
    (trigger,) = parse("pagerduty", "pagerduty/events_v2_trigger.json")
    (resolve,) = parse("pagerduty", "pagerduty/events_v2_resolve.json")
    assert trigger.dedup_key == resolve.dedup_key == "acme-fs01-disk-c"
    assert (trigger.status, resolve.status) == ("firing", "resolved")
    assert trigger.title == "Disk C: on ACME-FS01 below 5% free"
    assert trigger.severity == "critical"
    assert trigger.host == "acme-fs01.acme.local"
    assert trigger.labels == {
        "component": "disk",
        "group": "file-servers",
        "class": "disk.low_space",
    }
    assert trigger.alert_type == "disk.low_space"
    assert routing_key(fixture("pagerduty/events_v2_trigger.json")) == "frh_placeholder"


def test_pagerduty_v3_webhooks_mirror_incidents() -> None:
    (triggered,) = parse("pagerduty", "pagerduty/zulip_triggered_v3.json")
    (escalated,) = parse("pagerduty", "pagerduty/zulip_escalate_v3.json")
    (resolved,) = parse("pagerduty", "pagerduty/zulip_resolved_v3.json")
    assert (triggered.dedup_key, triggered.status, triggered.title) == (
        "incident:PFQZPSY",
        "firing",
        "Test Incident 3",
    )
    assert triggered.severity == "error"  # urgency high
    assert triggered.host == "pig208"
    assert escalated.status == "firing"
    assert (resolved.dedup_key, resolved.status) == ("incident:PCPZE64", "resolved")


def test_generic_single_alert_keeps_every_field() -> None:
    (alert,) = parse("generic", "generic/single.json")
    assert alert.to_dict() == {
        "dedup_key": "veeam-nightly-sql-acme",
        "status": "firing",
        "title": "Backup job 'Nightly SQL' failed on ACME-SQL01",
        "severity": "error",
        "body": "Veeam job ended with error: VSS writer timed out.",
        "host": "ACME-SQL01",
        "labels": {"tool": "veeam", "job": "Nightly SQL"},
        "alert_type": "backup.job_failed",
        "client": "Acme Dental",
        # The generic format has no notification groups: one ticket per dedup key.
        "group_key": None,
        "group_title": None,
    }


def test_generic_batch_without_dedup_key_groups_by_host_and_title() -> None:
    firing, resolved = parse("generic", "generic/batch.json")
    assert firing.dedup_key == resolved.dedup_key
    assert (firing.status, resolved.status) == ("firing", "resolved")
    assert firing.host == "print01"  # `source` is accepted for `host`


@pytest.mark.parametrize("name", ["tacticalrmm_failure.json", "ninjaone_script.json"])
def test_rmm_bodies_from_the_readme_are_generic_alerts(name: str) -> None:
    (alert,) = parse("generic", f"generic/{name}")
    assert alert.status == "firing"
    assert alert.host and alert.dedup_key and alert.alert_type


@pytest.mark.parametrize(
    ("kind", "body", "message"),
    [
        ("generic", {"body": "no title"}, "body.title: required"),
        ("generic", {"title": "x", "status": "open"}, "body.status: must be firing or resolved"),
        ("generic", {"title": "x", "severity": "purple"}, "body.severity: unknown severity"),
        ("generic", {"alerts": [{"title": "ok"}, 3]}, "alerts[1]: expected a JSON object"),
        ("generic", {"title": "x", "labels": {"a": [1]}}, "body.labels.a: expected text"),
        ("alertmanager", {"status": "firing"}, "body.alerts: required"),
        ("alertmanager", {"alerts": [{"labels": {}}]}, "alerts[0].status"),
        (
            "pagerduty",
            {"event_action": "trigger", "payload": {"summary": "s"}},
            "body.payload.source",
        ),
        ("pagerduty", {"event_action": "resolve"}, "body.dedup_key: required"),
        ("pagerduty", {"event_action": "explode"}, "body.event_action"),
        ("zabbix", {"hostname": "h", "status": "PROBLEM"}, "body.trigger: required"),
        ("uptimerobot", {"monitor_url": "x", "alert_type": "9"}, "body.alert_type"),
        ("grafana", {"hello": 1}, "not a Grafana webhook"),
        ("generic", [], "body: empty"),
    ],
)
def test_wrong_shapes_name_the_field(kind: str, body: Any, message: str) -> None:
    with pytest.raises(MalformedPayload) as caught:
        parse_payload(kind, body)
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "body is empty"),
        (b"{nope", "not valid JSON: Expecting property name"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_bad_json_is_refused_with_the_place(raw: bytes, message: str) -> None:
    with pytest.raises(MalformedPayload) as caught:
        load_json(raw)
    assert message in caught.value.message


def test_long_dedup_keys_are_hashed_to_fit() -> None:
    (alert,) = parse_payload("generic", {"title": "x", "dedup_key": "k" * 400})
    assert alert.dedup_key.startswith("sha256:") and len(alert.dedup_key) <= 255


def _variants(document: dict[str, Any]) -> list[Any]:
    """A fixture and broken copies of it: each way an Alertmanager-shaped body can be wrong."""
    first = document["alerts"][0]
    broken_alerts: list[Any] = [
        "an alert",
        {**first, "labels": ["not", "an", "object"]},
        {**first, "labels": {**first["labels"], "nested": {"a": "b"}}},
        {**first, "labels": {}},
        {k: v for k, v in first.items() if k != "labels"},
        {**first, "annotations": "text"},
        {**first, "annotations": {"summary": ["a"]}},
        {**first, "status": "bogus"},
        {k: v for k, v in first.items() if k != "status"},
        {**first, "labels": {**first["labels"], "port": 9100, "up": True, "none": None}},
        {k: v for k, v in first.items() if k != "fingerprint"},
    ]
    variants: list[Any] = [
        document,
        [document],
        "text",
        {k: v for k, v in document.items() if k != "alerts"},
    ]
    variants += [{**document, "alerts": {"not": "a list"}}, {**document, "alerts": []}]
    variants += [{**document, "alerts": [*document["alerts"], alert]} for alert in broken_alerts]
    variants += [
        {**document, "status": None, "alerts": [{**a, "status": None} for a in document["alerts"]]}
    ]
    for key, value in (
        ("groupKey", ""),
        ("groupKey", 7),
        ("commonAnnotations", ["x"]),
        ("groupLabels", {"a": {}}),
    ):
        variants.append({**document, key: value})
    return variants


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("alertmanager", "alertmanager/zulip_alert.json"),
        ("alertmanager", "alertmanager/msteams_large_prom_post_request.json"),
        ("grafana", "grafana/zulip_alert_new.json"),
    ],
)
def test_checking_a_body_agrees_with_parsing_it(kind: str, path: str) -> None:
    """The webhook is answered from `check_payload` and processed later from
    `parse_payload`: for every body, both count the same alerts or refuse it alike."""
    outcomes = set()
    for document in _variants(fixture(path)):
        try:
            parsed: int | str = len(parse_payload(kind, document))
        except MalformedPayload as exc:
            parsed = exc.message
        try:
            checked: int | str = check_payload(kind, document)
        except MalformedPayload as exc:
            checked = exc.message
        assert checked == parsed, document
        outcomes.add(type(parsed))
    assert outcomes == {int, str}
