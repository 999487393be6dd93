"""What a notification says, shaped for e-mail, a Teams Adaptive Card and Slack Block Kit.

Pure: a `Notice` in, a dict or text out. Teams Workflows webhooks render Adaptive Cards
but cannot send a button press back, so every button is an `Action.OpenUrl` to a signed
link. Slack buttons carry the same signed link as `url` (it opens the confirm page); when the
Slack app's interactivity is set up (a signing secret is stored), Approve and Deny carry
the link token as `value` instead and the press is applied by the callback endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ADAPTIVE_VERSION = "1.4"
ADAPTIVE_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
MAX_SLACK_TEXT = 2900  # section text is limited to 3000 characters


@dataclass(frozen=True)
class Button:
    label: str
    url: str
    action: str  # approve | deny | answer | open
    token: str = ""


@dataclass(frozen=True)
class Notice:
    title: str
    text: str
    facts: tuple[tuple[str, str], ...] = ()
    buttons: tuple[Button, ...] = field(default_factory=tuple)


def email_body(notice: Notice, minutes: int) -> str:
    lines = [notice.text, ""]
    lines += [f"{name}: {value}" for name, value in notice.facts]
    if notice.buttons:
        lines += ["", f"Links (each for you only, usable once, valid {minutes} minutes):"]
        lines += [f"{b.label}: {b.url}" for b in notice.buttons]
    return "\n".join(lines).strip() + "\n"


def teams_message(notice: Notice) -> dict[str, Any]:
    """The body a Teams Workflows webhook ("post to a channel when a webhook request is
    received") takes: a message with one Adaptive Card attachment."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": notice.title,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        },
        {"type": "TextBlock", "text": notice.text, "wrap": True},
    ]
    if notice.facts:
        body.append(
            {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in notice.facts]}
        )
    card: dict[str, Any] = {
        "$schema": ADAPTIVE_SCHEMA,
        "type": "AdaptiveCard",
        "version": ADAPTIVE_VERSION,
        "body": body,
    }
    if notice.buttons:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": b.label, "url": b.url} for b in notice.buttons
        ]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def _mrkdwn_escape(text: str) -> str:
    # Slack's three control characters; everything else is shown as typed.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(notice: Notice, *, interactive: bool = False) -> dict[str, Any]:
    """An incoming-webhook body: fallback text plus Block Kit blocks with buttons."""
    text = _mrkdwn_escape(notice.text)[:MAX_SLACK_TEXT]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": notice.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": text or " "}},
    ]
    if notice.facts:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{_mrkdwn_escape(k)}*\n{_mrkdwn_escape(v)}"[:2000]}
                    for k, v in notice.facts[:10]
                ],
            }
        )
    if notice.buttons:
        elements = []
        for b in notice.buttons:
            button: dict[str, Any] = {
                "type": "button",
                "text": {"type": "plain_text", "text": b.label[:75]},
                "action_id": b.action,
            }
            if interactive and b.token:
                button["value"] = b.token
            else:
                button["url"] = b.url
            if b.action == "approve":
                button["style"] = "primary"
            elif b.action == "deny":
                button["style"] = "danger"
            elements.append(button)
        blocks.append({"type": "actions", "elements": elements})
    return {"text": f"{notice.title}: {notice.text}"[:MAX_SLACK_TEXT], "blocks": blocks}
