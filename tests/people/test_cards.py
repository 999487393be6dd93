"""The Teams card is valid against the published Adaptive Card schema; Slack gets Block Kit
with buttons; both are posted as real HTTP to a loopback receiver."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft6Validator

from franchise.orgsettings.sealing import seal
from franchise.outbox.service import SendFailed
from franchise.people.cards import Button, Notice, email_body, slack_message, teams_message
from franchise.people.outbound import CHANNEL
from franchise.settings import Settings
from tests.notify.receiver import receiver

SCHEMA = json.loads(
    (
        Path(__file__).parents[1] / "fixtures" / "adaptivecards" / "adaptive-card-1.4.json"
    ).read_text()
)
NOTICE = Notice(
    title="Approval #12 waits for you",
    text="Lia asks to: buy <5> seats & assign them",
    facts=(("Ticket", "#4 New starters"), ("Cost", "300.00 (once)")),
    buttons=(
        Button("Approve", "https://f.example/l/aaa.bbb", "approve", "aaa.bbb"),
        Button("Deny", "https://f.example/l/ccc.ddd", "deny", "ccc.ddd"),
        Button("Open ticket", "https://f.example/tickets/4", "open"),
    ),
)


def card_errors(card: dict[str, Any]) -> list[str]:
    return [e.message for e in Draft6Validator(SCHEMA).iter_errors(card)]


def test_the_teams_card_is_valid_against_the_adaptive_card_schema() -> None:
    message = teams_message(NOTICE)
    (attachment,) = message["attachments"]
    assert message["type"] == "message"
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card_errors(card) == []
    assert card["version"] == "1.4"
    assert [(a["type"], a["title"], a["url"]) for a in card["actions"]] == [
        ("Action.OpenUrl", "Approve", "https://f.example/l/aaa.bbb"),
        ("Action.OpenUrl", "Deny", "https://f.example/l/ccc.ddd"),
        ("Action.OpenUrl", "Open ticket", "https://f.example/tickets/4"),
    ]


def test_the_schema_check_catches_a_broken_card() -> None:
    # Proves the validation bites: a TextBlock needs its text, an action its url.
    card = teams_message(NOTICE)["attachments"][0]["content"]
    del card["body"][0]["text"]
    del card["actions"][0]["url"]
    assert len(card_errors(card)) >= 1


def test_a_card_without_buttons_or_facts_is_valid_too() -> None:
    card = teams_message(Notice(title="t", text="x"))["attachments"][0]["content"]
    assert card_errors(card) == []
    assert "actions" not in card


def test_slack_gets_block_kit_with_link_buttons() -> None:
    message = slack_message(NOTICE)
    kinds = [b["type"] for b in message["blocks"]]
    assert kinds == ["header", "section", "section", "actions"]
    assert message["blocks"][1]["text"] == {
        "type": "mrkdwn",
        "text": "Lia asks to: buy &lt;5&gt; seats &amp; assign them",
    }
    buttons = message["blocks"][3]["elements"]
    assert [(b["action_id"], b.get("style"), b["url"]) for b in buttons] == [
        ("approve", "primary", "https://f.example/l/aaa.bbb"),
        ("deny", "danger", "https://f.example/l/ccc.ddd"),
        ("open", None, "https://f.example/tickets/4"),
    ]
    assert all(b["type"] == "button" and b["text"]["type"] == "plain_text" for b in buttons)
    assert all("value" not in b for b in buttons)


def test_with_interactivity_approve_and_deny_carry_the_token_instead_of_a_url() -> None:
    buttons = slack_message(NOTICE, interactive=True)["blocks"][3]["elements"]
    assert [(b["action_id"], b.get("value"), b.get("url")) for b in buttons] == [
        ("approve", "aaa.bbb", None),
        ("deny", "ccc.ddd", None),
        ("open", None, "https://f.example/tickets/4"),
    ]


def test_the_email_lists_each_link_with_its_validity() -> None:
    body = email_body(NOTICE, 30)
    assert "Cost: 300.00 (once)" in body
    assert "valid 30 minutes" in body
    assert "Approve: https://f.example/l/aaa.bbb" in body


@pytest.mark.parametrize("via", ["teams", "slack"])
def test_the_outbox_channel_posts_the_payload_to_the_webhook(tmp_path: Path, via: str) -> None:
    settings = Settings(home=tmp_path)
    message = teams_message(NOTICE) if via == "teams" else slack_message(NOTICE)
    with receiver() as rx:
        payload = {"via": via, "url_sealed": seal(settings, rx.http_url("/wf")), "message": message}
        CHANNEL.send(payload, settings)
    assert rx.paths == ["/wf"]
    assert rx.posts == [message]


def test_a_refused_webhook_is_given_up_and_never_names_the_url(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    with receiver() as rx:
        rx.status = 404
        url = rx.http_url("/secret-token-path")
        payload = {"via": "teams", "url_sealed": seal(settings, url), "message": {}}
        with pytest.raises(SendFailed) as failed:
            CHANNEL.send(payload, settings)
    assert failed.value.permanent
    assert "HTTP 404" in failed.value.reason
    assert "secret-token-path" not in failed.value.reason


def test_a_server_error_is_retried(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    with receiver() as rx:
        rx.status = 503
        payload = {"via": "slack", "url_sealed": seal(settings, rx.http_url()), "message": {}}
        with pytest.raises(SendFailed) as failed:
            CHANNEL.send(payload, settings)
    assert not failed.value.permanent
