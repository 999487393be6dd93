"""The CLI end to end against the test database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from franchise.runbooks.service import STARTER
from tests.support import CliInvoker

CERT_PATH = [
    "scope=Only this user",
    "client-error=Certificate invalid, expired or not found",
    "renew-certificate=User connected",
]
DC_PATH = [
    "scope=Several or all users",
    "vpn-type=FortiGate IPsec dial-up",
    "recent-change=No change",
    "auth-server=Domain controller down: offline in the RMM, not answering, and sign-ins fail "
    "everywhere",
]


def answers(pairs: list[str]) -> list[str]:
    return [arg for pair in pairs for arg in ("--answer", pair)]


@pytest.fixture
def ready(cli: CliInvoker) -> CliInvoker:
    result = cli("init", "--json")
    assert result.exit_code == 0, result.output
    return cli


def test_init_is_idempotent(cli: CliInvoker) -> None:
    first = json.loads(cli("init", "--json").stdout)
    second = json.loads(cli("init", "--json").stdout)
    assert first["runbooks_loaded"] == first["runbooks_total"] == len(list(STARTER.glob("*.yaml")))
    assert second["runbooks_loaded"] == 0
    assert second["runbooks_total"] == first["runbooks_total"]


def test_runbook_list_and_show_by_category(ready: CliInvoker) -> None:
    listed = json.loads(ready("runbook", "list", "--json").stdout)
    assert "vpn-auth-failure" in {r["key"] for r in listed}
    shown = json.loads(ready("runbook", "show", "vpn", "--json").stdout)
    assert shown["key"] == "vpn-auth-failure"
    assert shown["steps"]["renew-certificate"]["estimate"] == {
        "minutes": 20,
        "cost": 0,
        "impact": "low",
    }
    assert shown["steps"]["dc-trouble"]["to"] == "owner"


def test_vpn_expired_certificate_path_resolves(ready: CliInvoker) -> None:
    result = ready("run", "vpn", "--json", *answers(CERT_PATH))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["outcome"] == "resolved"
    assert data["final_step"] == "cert-done"
    assert [p["step"] for p in data["path"]] == ["scope", "client-error", "renew-certificate"]


def test_vpn_domain_controller_trouble_escalates_to_owner(ready: CliInvoker) -> None:
    data = json.loads(ready("run", "vpn", "--json", *answers(DC_PATH)).stdout)
    assert (data["outcome"], data["level"], data["final_step"]) == (
        "escalate",
        "owner",
        "dc-trouble",
    )


def test_run_without_enough_answers_is_incomplete_with_next_step(ready: CliInvoker) -> None:
    data = json.loads(ready("run", "vpn", "--json", "--answer", "scope=only this user").stdout)
    assert {k: data[k] for k in ("runbook", "outcome", "level", "path", "next_step")} == {
        "runbook": "vpn-auth-failure",
        "outcome": "incomplete",
        "level": None,
        "path": [{"step": "scope", "answer": "Only this user"}],
        "next_step": "client-error",
    }
    assert data["final_step"] is None
    assert data["next"]["step"] == "client-error"
    assert data["next"]["kind"] == "check"
    assert data["next"]["options"][0]


def test_wrong_answer_is_a_red_line_naming_the_choices(ready: CliInvoker) -> None:
    result = ready("run", "vpn", "--json", "--answer", "scope=Maybe")
    assert result.exit_code == 2
    assert "'Maybe' is not an answer to step 'scope'" in result.stderr
    assert "'Only this user'" in result.stderr
    assert "Traceback" not in result.output


def test_run_on_a_ticket_is_recorded_and_continues(ready: CliInvoker) -> None:
    ticket = json.loads(
        ready("ticket", "new", "FortiClient says certificate expired", "--json").stdout
    )
    assert ticket["runbook_key"] == "vpn-auth-failure"
    first = json.loads(
        ready("run", "vpn", "--ticket", str(ticket["id"]), "--json", *answers(CERT_PATH[:2])).stdout
    )
    assert first["outcome"] == "incomplete"
    second = json.loads(
        ready("run", "vpn", "--ticket", str(ticket["id"]), "--json", *answers(CERT_PATH[2:])).stdout
    )
    assert second["run_id"] == first["run_id"]
    assert second["outcome"] == "resolved"
    assert len(second["path"]) == 3


def test_ticket_new_list_show(ready: CliInvoker) -> None:
    created = json.loads(
        ready("ticket", "new", "Printer offline", "--body", "HP in reception", "--json").stdout
    )
    assert created["source"] == "cli"
    listed = json.loads(ready("ticket", "list", "--search", "reception", "--json").stdout)
    assert [t["id"] for t in listed] == [created["id"]]
    shown = json.loads(ready("ticket", "show", str(created["id"]), "--json").stdout)
    assert shown["history"][0]["kind"] == "created"
    missing = ready("ticket", "show", "999999")
    assert missing.exit_code == 1
    assert "no ticket #999999" in missing.stderr


def test_lint_reports_problems_and_exits_1(ready: CliInvoker, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "key: bad-one\ntitle: Bad\ncategory: vpn\nstatus: validated\nstart: a\nsteps:\n"
        "  a: {kind: check, text: Is it on?, options: {'Yes': nowhere}}\n"
    )
    result = ready("runbook", "lint", str(bad), "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert {(p["code"], p["line"], p["step"]) for p in problems} >= {("unknown-target", 7, "a")}
    clean = ready("runbook", "lint", str(STARTER))
    assert clean.exit_code == 0
    assert "no problems" in clean.stdout


def test_export_then_import_round_trips_without_new_revisions(
    ready: CliInvoker, tmp_path: Path
) -> None:
    assert ready("runbook", "export", str(tmp_path)).exit_code == 0
    exported = sorted(p.name for p in tmp_path.glob("*.yaml"))
    assert exported == sorted(p.name for p in STARTER.glob("*.yaml"))
    rows = json.loads(ready("runbook", "import", str(tmp_path), "--json").stdout)
    assert {r["action"] for r in rows} == {"unchanged"}


def test_import_with_one_bad_file_imports_nothing(ready: CliInvoker, tmp_path: Path) -> None:
    good = (
        (STARTER / "vpn-auth-failure.yaml")
        .read_text()
        .replace("key: vpn-auth-failure", "key: vpn-copy")
    )
    (tmp_path / "good.yaml").write_text(good)
    (tmp_path / "broken.yaml").write_text("key: [unclosed\n")
    result = ready("runbook", "import", str(tmp_path))
    assert result.exit_code == 2
    assert "broken.yaml:1" in result.stderr
    keys = {r["key"] for r in json.loads(ready("runbook", "list", "--json").stdout)}
    assert "vpn-copy" not in keys


def test_revise_adds_a_revision_and_refuses_a_stale_one(ready: CliInvoker, tmp_path: Path) -> None:
    source = (STARTER / "vpn-auth-failure.yaml").read_text()
    edited = tmp_path / "vpn.yaml"
    edited.write_text(
        source.replace("Tunnel stable for 15 minutes", "Tunnel stable for 30 minutes")
    )
    args = [
        "runbook",
        "revise",
        "vpn-auth-failure",
        "--file",
        str(edited),
        "--note",
        "longer soak",
        "--json",
    ]
    out = json.loads(ready(*args, "--expected-revision", "1").stdout)
    assert out == {
        "key": "vpn-auth-failure",
        "revision": 2,
        "action": "revised",
        "lessons_applied": [],
    }
    stale = ready(*args[:-1], "--expected-revision", "1")
    assert stale.exit_code == 1
    assert "revision 2, not 1" in stale.stderr


def test_suggest_returns_three_with_why(ready: CliInvoker) -> None:
    found = json.loads(
        ready("suggest", "AnyConnect keeps rejecting my login from home", "--json").stdout
    )
    data = found["suggestions"]
    assert len(data) == 3
    assert data[0]["key"] == "vpn-auth-failure"
    assert "anyconnect" in data[0]["why"]
    assert data[0]["score"] > data[1]["score"]
    assert (found["runbook"], found["fits"]) == ("vpn-auth-failure", True)
    assert found["confidence"] >= found["threshold"]


def test_suggest_says_when_no_runbook_fits(ready: CliInvoker) -> None:
    result = ready("suggest", "Teams crashes whenever I share my screen in a meeting")
    assert "No runbook fits" in result.stdout
    found = json.loads(
        ready("suggest", "Teams crashes whenever I share my screen in a meeting", "--json").stdout
    )
    assert (found["runbook"], found["fits"]) == (None, False)
    assert found["confidence"] < found["threshold"]
    assert len(found["suggestions"]) == 3  # still listed, to offer


def test_ticket_runbook_attaches_replaces_and_detaches_with_a_reason(ready: CliInvoker) -> None:
    opened = ready("ticket", "new", "Teams crashes every time I share my screen in a meeting")
    assert opened.exit_code == 0, opened.output
    number = opened.stdout.split("#", 1)[1].split(":", 1)[0]
    assert "No runbook attached: the best match, endpoint-offline, has confidence" in opened.stdout
    assert f"franchise ticket runbook {number} endpoint-offline --reason" in opened.stdout
    attached = ready("ticket", "runbook", number, "account-lockout", "--reason", "It is a lockout")
    assert attached.exit_code == 0, attached.output
    assert "follows runbook account-lockout (category account-lockout)" in attached.stdout
    replaced = json.loads(
        ready(
            "ticket", "runbook", number, "endpoint-offline", "--reason", "Laptop drops", "--json"
        ).stdout
    )
    assert (replaced["runbook_key"], replaced["category"]) == (
        "endpoint-offline",
        "endpoint-offline",
    )
    detached = ready("ticket", "runbook", number, "--detach", "--reason", "Teams bug")
    assert "no runbook: the escalation map's default applies" in detached.stdout
    shown = json.loads(ready("ticket", "show", number, "--json").stdout)
    moves = [
        (e["old_value"], e["new_value"], e["note"])
        for e in shown["history"]
        if e["field"] == "runbook_key"
    ]
    assert moves == [
        (None, "account-lockout", "It is a lockout"),
        ("account-lockout", "endpoint-offline", "Laptop drops"),
        ("endpoint-offline", None, "Teams bug"),
    ]
    both = ready("ticket", "runbook", number, "vpn", "--detach", "--reason", "x")
    neither = ready("ticket", "runbook", number, "--reason", "x")
    no_reason = ready("ticket", "runbook", number, "vpn")
    for refused in (both, neither, no_reason):
        assert refused.exit_code != 0
    assert "not both" in both.stderr and "not both" in neither.stderr
    assert "say why" in no_reason.stderr


def test_user_add_and_token_create(ready: CliInvoker) -> None:
    added = ready(
        "user",
        "add",
        "Lee Tech",
        "--email",
        "lee@example.com",
        "--role",
        "technician",
        "--level",
        "L2",
        "--password",
        "correct horse",
        "--json",
    )
    assert json.loads(added.stdout)["level"] == "L2"
    token = json.loads(
        ready("token", "create", "--user", "lee@example.com", "--name", "psa", "--json").stdout
    )
    assert token["token"].startswith("frn_")
    listed = json.loads(ready("token", "list", "--json").stdout)
    assert [t["prefix"] for t in listed] == [token["token"][:10]]
    assert token["token"] not in ready("token", "list", "--json").stdout
    assert ready("token", "revoke", str(token["id"])).exit_code == 0
    assert json.loads(ready("token", "list", "--json").stdout)[0]["revoked"] is True
    duplicate = ready(
        "user",
        "add",
        "Lee Again",
        "--email",
        "lee@example.com",
        "--password",
        "x-long-enough-passphrase",
    )
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.stderr
