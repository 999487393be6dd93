"""The ask-owner, drill and review commands and routes, end to end on both databases."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy.orm import Session

from franchise.accounts.service import create_token
from franchise.db import Database, utcnow
from franchise.drills.service import start_drill
from franchise.escalation import service as escalation
from franchise.settings import Settings
from franchise.tickets.service import create_ticket
from tests.ask.fixtures import Team
from tests.drills.helpers import Invoker, api_client
from tests.notify.receiver import Receiver


def test_ask_owner_cli_prints_the_outcome_as_json(
    db: Database, session: Session, team: Team, settings: Settings, owner_inbox: Receiver
) -> None:
    vpn = create_ticket(session, title="VPN down for Ana", category="vpn")
    other = create_ticket(session, title="Contract renewal")
    session.flush()
    run = Invoker(db, settings)
    result = run(
        "ask-owner",
        str(vpn.id),
        "--by",
        "ana@example.com",
        "--reason",
        "technical_decision",
        "--question",
        "Reinstall the client?",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["outcome"], data["kind"]) == ("deflected", "runbook_step")
    assert data["contact_id"] > 0
    result = run(
        "ask-owner",
        str(other.id),
        "--by",
        "Ana Lee",
        "--reason",
        "other",
        "--question",
        "Renew at 5%?",
        "--json",
    )
    data = json.loads(result.stdout)
    assert data["outcome"] == "interruption"
    # Sent after the ask was committed, before the command answered.
    notification = data["notification"]
    assert (notification["state"], notification["sent"], notification["error"]) == (
        "delivered",
        True,
        None,
    )
    assert "Renew at 5%?" in owner_inbox.posts[0]["message"]


def test_ask_owner_cli_exits_1_on_a_drill_refusal_and_keeps_the_record(
    db: Database, session: Session, team: Team, settings: Settings
) -> None:
    ticket = create_ticket(session, title="Contract renewal")
    start_drill(session, days=1, now=utcnow() - timedelta(hours=1))
    session.flush()
    run = Invoker(db, settings)
    result = run(
        "ask-owner",
        str(ticket.id),
        "--by",
        "ana@example.com",
        "--reason",
        "other",
        "--question",
        "Renew?",
    )
    assert result.exit_code == 1
    assert "refused" in result.stdout
    assert "L2 on duty: Bo Stone" in result.stdout
    status = json.loads(run("drill", "status", "--json").stdout)
    assert status["active"]["counts"]["refused"] == 1


def test_ask_owner_cli_names_a_bad_reason(
    db: Database, session: Session, team: Team, settings: Settings
) -> None:
    ticket = create_ticket(session, title="x")
    session.flush()
    result = Invoker(db, settings)(
        "ask-owner",
        str(ticket.id),
        "--by",
        "ana@example.com",
        "--reason",
        "gossip",
        "--question",
        "q",
    )
    assert result.exit_code == 2
    assert "unknown reason 'gossip'" in result.output


def test_drill_commands_start_review_and_dispose(
    db: Database, session: Session, team: Team, settings: Settings
) -> None:
    run = Invoker(db, settings)
    started = run("drill", "start", "--days", "2", "--by", "olivia@example.com", "--json")
    assert started.exit_code == 0, started.output
    drill = json.loads(started.stdout)
    assert drill["state"] == "active"
    again = run("drill", "start")
    assert again.exit_code == 1
    assert f"drill #{drill['id']} (active)" in again.output
    refused = run("drill", "start", "--by", "bo@example.com")
    assert refused.exit_code == 1
    assert "only the owner or an admin" in refused.output

    ticket = create_ticket(session, title="Contract renewal")
    session.flush()
    run(
        "ask-owner",
        str(ticket.id),
        "--by",
        "ana@example.com",
        "--reason",
        "other",
        "--question",
        "Renew?",
    )
    ended = run("drill", "end", "--json")
    assert ended.exit_code == 0
    assert json.loads(ended.stdout)["ended_at"]

    review = json.loads(run("drill", "review", "--json").stdout)
    (item,) = review["items"]
    assert (item["outcome"], review["review_complete"]) == ("refused", False)
    # The map in force was loaded long ago, so there is nothing to link yet.
    early = run(
        "drill", "dispose", str(item["id"]), "--tighten-rule", "critical-outage", "--note", "n"
    )
    assert early.exit_code == 1
    assert "escalation map has no revision since drill" in early.output
    source = escalation.current_map(session).source.replace(
        "priority: critical", "priority: [critical, high]", 1
    )
    escalation.save_map(session, source, author=team.olivia, note="tighter")
    session.flush()
    disposed = run(
        "drill",
        "dispose",
        str(item["id"]),
        "--tighten-rule",
        "critical-outage",
        "--note",
        "high priority too",
        "--by",
        "olivia@example.com",
    )
    assert disposed.exit_code == 0, disposed.output
    assert "rule critical-outage in escalation map revision 2" in disposed.stdout
    table = run("drill", "review", str(drill["id"]))
    assert "Review complete" in table.stdout
    status = run("drill", "status")
    assert f"last: drill #{drill['id']}" in status.stdout


def test_review_week_commands(
    db: Database, session: Session, team: Team, settings: Settings
) -> None:
    ticket = create_ticket(session, title="Contract renewal")
    session.flush()
    run = Invoker(db, settings)
    run(
        "ask-owner",
        str(ticket.id),
        "--by",
        "ana@example.com",
        "--reason",
        "other",
        "--question",
        "Renew?",
    )
    week = json.loads(run("review", "week", "--json").stdout)
    (item,) = week["items"]
    assert week["review_complete"] is False
    refused = run(
        "review", "dispose", str(item["id"]), "--improve-runbook", "vpn-auth-failure", "--note", "n"
    )
    assert refused.exit_code == 1
    assert "revise the runbook first" in refused.output
    bad = run("review", "week", "--week", "last tuesday")
    assert bad.exit_code == 2
    assert "is not a date" in bad.output
    old = json.loads(run("review", "week", "--week", "2020-01-08", "--json").stdout)
    assert (old["week_start"], old["items"], old["review_complete"]) == ("2020-01-06", [], True)


def test_api_routes(db: Database, team: Team, settings: Settings, owner_inbox: Receiver) -> None:
    with db.unit_of_work() as session:
        tech = {"Authorization": f"Bearer {create_token(session, staff=team.ana, name='t')[1]}"}
        boss = {"Authorization": f"Bearer {create_token(session, staff=team.olivia, name='t')[1]}"}
        ticket_id = create_ticket(session, title="Contract renewal").id
    with api_client(db, settings) as client:
        assert client.post("/api/v1/drills", json={"days": 1}, headers=tech).status_code == 403
        started = client.post("/api/v1/drills", json={"days": 1}, headers=boss)
        assert started.status_code == 201, started.text
        drill_id = started.json()["id"]
        assert client.post("/api/v1/drills", json={}, headers=boss).status_code == 409

        asked = client.post(
            f"/api/v1/tickets/{ticket_id}/ask-owner",
            json={"reason": "other", "question": "Renew?"},
            headers=tech,
        )
        assert asked.status_code == 200, asked.text
        assert asked.json()["outcome"] == "refused"
        assert asked.json()["drill_id"] == drill_id
        bad = client.post(
            f"/api/v1/tickets/{ticket_id}/ask-owner",
            json={"reason": "gossip", "question": "q"},
            headers=tech,
        )
        assert bad.status_code == 422
        assert bad.json()["ok"] is False

        status = client.get("/api/v1/drills/status", headers=tech).json()
        assert status["active"]["counts"]["refused"] == 1
        assert client.post(f"/api/v1/drills/{drill_id}/end", headers=boss).status_code == 200
        review = client.get(f"/api/v1/drills/{drill_id}/review", headers=tech).json()
        item_id = review["items"][0]["id"]
        dispose = client.post(
            f"/api/v1/review-items/{item_id}/dispose",
            json={"improve_runbook": "vpn-auth-failure", "note": "n"},
            headers=boss,
        )
        assert dispose.status_code == 409
        assert "revise the runbook first" in dispose.json()["error"]
        week = client.get("/api/v1/reviews/week", params={"week": "2020-01-08"}, headers=tech)
        assert week.status_code == 200
        assert week.json()["week_start"] == "2020-01-06"
        assert client.get("/api/v1/drills/999999/review", headers=tech).status_code == 404


def test_drill_start_at_a_local_time_schedules_it_and_end_cancels_it(
    db: Database, session: Session, team: Team, settings: Settings
) -> None:
    run = Invoker(db, settings)
    assert run("drill", "start", "--at", "next monday").exit_code == 2
    later = (utcnow() + timedelta(days=10)).replace(tzinfo=None, microsecond=0)
    started = run("drill", "start", "--at", later.isoformat(), "--days", "3", "--json")
    assert started.exit_code == 0, started.output
    drill = json.loads(started.stdout)
    assert drill["state"] == "scheduled"
    assert drill["starts_at"] == later.isoformat() + "+00:00"  # the organisation is on UTC
    status = json.loads(run("drill", "status", "--json").stdout)
    assert status["next"]["id"] == drill["id"]
    assert "No owner-offline drill has run yet" in status["warning"]
    cancelled = json.loads(run("drill", "end", str(drill["id"]), "--json").stdout)
    assert cancelled["state"] == "cancelled"
