"""Slack's button callbacks: accepted when signed as Slack documents, within five minutes,
from the Slack user of the person the button was sent to; refused otherwise."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from franchise.accounts.service import add_staff
from franchise.app import create_app
from franchise.approvals.models import ApprovalRequest
from franchise.approvals.service import request_approval
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.orgsettings.secrets import set_delivery_setting
from franchise.people.service import issue_link, set_channel
from franchise.people.signing import slack_signature
from franchise.settings import Settings
from franchise.tickets.service import create_ticket

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
URL = "/api/v1/hooks/slack/interactions"


@dataclass
class Setup:
    client: TestClient
    db: Database
    request_id: int
    approve: str  # Max's Approve token
    deny: str


@pytest.fixture
def setup(db: Database, tmp_path: Path) -> Iterator[Setup]:
    settings = Settings(home=tmp_path)
    with db.unit_of_work() as session:
        initialise(session)
        set_delivery_setting(session, "slack_signing_secret", SECRET, settings)
        lia = add_staff(session, name="Lia", email="lia@example.com", role="technician", level="L1")
        max_ = add_staff(
            session, name="Max", email="max@example.com", role="technician", level="L2"
        )
        kim = add_staff(session, name="Kim", email="kim@example.com", role="technician", level="L2")
        hook = "https://hooks.slack.com/services/T0/B0/x"
        set_channel(
            session, max_, kind="slack", url=hook, by=max_, settings=settings, slack_user_id="UMAX1"
        )
        set_channel(
            session, kim, kind="slack", url=hook, by=kim, settings=settings, slack_user_id="UKIM1"
        )
        ticket = create_ticket(session, title="Seats", category="onboarding")
        request = request_approval(
            session,
            ticket=ticket,
            action="Buy two seats",
            cost=300,
            minutes=10,
            impact="none",
            kind="licence-purchase",
            requester=lia,
        )
        assert request.status == "pending"
        tokens = {
            action: issue_link(
                session,
                max_,
                action=action,
                target_kind="approval",
                target_id=request.id,
                settings=settings,
            )
            for action in ("approve", "deny")
        }
        request_id = request.id
    app = create_app(settings, db=db)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Setup(client, db, request_id, tokens["approve"], tokens["deny"])


def press(user: str, token: str, action: str = "approve") -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "someone"},
        "actions": [{"action_id": action, "value": token, "type": "button"}],
        "response_url": "https://hooks.slack.com/actions/T0/1/x",
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def post(setup: Setup, body: bytes, *, ts: int | None = None, secret: str = SECRET):  # type: ignore[no-untyped-def]
    stamp = str(ts if ts is not None else int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": slack_signature(secret, stamp, body),
    }
    return setup.client.post(URL, content=body, headers=headers)


def status(setup: Setup) -> str:
    with setup.db.unit_of_work() as session:
        request = session.get(ApprovalRequest, setup.request_id)
        assert request is not None
        return request.status


def test_a_signed_press_by_the_right_person_approves(setup: Setup) -> None:
    started = time.monotonic()
    response = post(setup, press("UMAX1", setup.approve))
    assert time.monotonic() - started < 3  # Slack gives up after three seconds
    assert response.status_code == 200
    assert response.json()["text"].startswith(f"Approval #{setup.request_id} approved")
    assert status(setup) == "approved"
    # The same button again: the link is spent (and the request decided).
    again = post(setup, press("UMAX1", setup.approve))
    assert "already used" in again.json()["text"]


def test_deny_from_slack_denies(setup: Setup) -> None:
    post(setup, press("UMAX1", setup.deny, "deny"))
    assert status(setup) == "denied"


def test_a_bad_signature_is_refused(setup: Setup) -> None:
    response = post(setup, press("UMAX1", setup.approve), secret="0" * 32)
    assert response.status_code == 401
    assert "signature" in response.json()["error"]
    assert status(setup) == "pending"


def test_a_replay_older_than_five_minutes_is_refused(setup: Setup) -> None:
    response = post(setup, press("UMAX1", setup.approve), ts=int(time.time()) - 301)
    assert response.status_code == 401
    assert "five minutes" in response.json()["error"]
    assert status(setup) == "pending"


def test_a_button_pressed_by_another_slack_user_is_refused(setup: Setup) -> None:
    # Kim saw Max's message (a shared channel) and pressed Approve: not in Max's name.
    response = post(setup, press("UKIM1", setup.approve))
    assert response.status_code == 200
    assert "sent to someone else" in response.json()["text"]
    assert status(setup) == "pending"


def test_an_unknown_slack_user_is_told_to_link_their_account(setup: Setup) -> None:
    response = post(setup, press("UNOBODY", setup.approve))
    assert "not linked" in response.json()["text"]
    assert status(setup) == "pending"


def test_without_a_signing_secret_callbacks_are_refused(db: Database, tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path), db=db)
    with TestClient(app, raise_server_exceptions=False) as client:
        body = press("UMAX1", "x")
        stamp = str(int(time.time()))
        response = client.post(
            URL,
            content=body,
            headers={
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": slack_signature(SECRET, stamp, body),
            },
        )
    assert response.status_code == 403
    assert "not set up" in response.json()["error"]
