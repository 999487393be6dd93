"""JSON routes: people's notification channels, and Slack's button callbacks."""

from __future__ import annotations

import json
import logging
import time
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from franchise.accounts.service import get_staff
from franchise.api.deps import CurrentStaff, DbSession
from franchise.errors import (
    FranchiseError,
    InvalidInput,
    NotAuthenticated,
    PermissionDenied,
)
from franchise.flows.action_links import apply_link
from franchise.orgsettings.secrets import effective_settings
from franchise.people import feed, service
from franchise.people.signing import slack_request_problem
from franchise.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter(tags=["notifications"])
# Apart, so it can be matched before the alert webhooks' /hooks/{kind}/{token}.
hooks = APIRouter(tags=["notifications"])
MAX_SLACK_BODY = 64_000


class ChannelSet(BaseModel):
    url: str = Field(max_length=2000, description="Teams Workflows or Slack incoming webhook URL")
    slack_user_id: str | None = Field(
        None, max_length=32, description="Slack member id, for Approve/Deny buttons in Slack"
    )


def _settings(request: Request) -> Settings:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings


@router.get("/staff/{ref}/channels")
def list_channels(
    ref: str, request: Request, session: DbSession, staff: CurrentStaff
) -> dict[str, Any]:
    """A person's channels (never the URLs); yourself, or anyone for the owner and admins."""
    person = get_staff(session, ref)
    if person.id != staff.id and not staff.is_manager:
        raise PermissionDenied("only the owner or an admin may see someone else's channels")
    views = service.describe_channels(session, person, _settings(request))
    return {"staff": person.email, "channels": [v.to_dict() for v in views]}


@router.put("/staff/{ref}/channels/{kind}")
def set_channel(
    ref: str, kind: str, body: ChannelSet, request: Request, session: DbSession, staff: CurrentStaff
) -> dict[str, Any]:
    person = get_staff(session, ref)
    service.set_channel(
        session,
        person,
        kind=kind,
        url=body.url,
        by=staff,
        settings=_settings(request),
        slack_user_id=body.slack_user_id,
    )
    views = service.describe_channels(session, person, _settings(request))
    return {"staff": person.email, "channels": [v.to_dict() for v in views]}


@router.delete("/staff/{ref}/channels/{kind}", status_code=204)
def clear_channel(ref: str, kind: str, session: DbSession, staff: CurrentStaff) -> None:
    service.clear_channel(session, get_staff(session, ref), kind=kind, by=staff)


@router.get("/me/notices")
def my_notices(
    session: DbSession,
    staff: CurrentStaff,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = feed.PAGE,
) -> dict[str, Any]:
    """Your notifications, newest first (what My notifications lists in the web app)."""
    return {
        "unread": feed.unread_count(session, staff.id),
        "notices": [
            n.to_dict() for n in feed.latest(session, staff.id, unread_only=unread, limit=limit)
        ],
    }


@router.post("/me/notices/{notice_id}/read")
def read_notice(notice_id: int, session: DbSession, staff: CurrentStaff) -> dict[str, Any]:
    """Mark one of your notifications read; answers where it points in the web app."""
    link = feed.open_notice(session, staff.id, notice_id)
    return {"id": notice_id, "link": link, "unread": feed.unread_count(session, staff.id)}


@router.post("/me/notices/read")
def read_all_notices(session: DbSession, staff: CurrentStaff) -> dict[str, Any]:
    """Mark all your notifications read."""
    return {"marked": feed.mark_all_read(session, staff.id), "unread": 0}


@hooks.post("/hooks/slack/interactions")
async def slack_interactions(
    request: Request,
    session: DbSession,
    x_slack_request_timestamp: Annotated[str | None, Header()] = None,
    x_slack_signature: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Slack's button callbacks: signed with the app's signing secret (checked first, within
    five minutes), then Approve / Deny applied for the staff member the Slack user maps to.
    It answers at once: the decision is a few rows, and Slack gives up after 3 seconds."""
    body = await request.body()
    if len(body) > MAX_SLACK_BODY:
        raise InvalidInput("the Slack request is too large")
    secret = effective_settings(session, _settings(request)).slack_signing_secret
    if not secret:
        raise PermissionDenied(
            "Slack buttons are not set up: store the Slack app's signing secret "
            "(franchise settings delivery slack_signing_secret ..., or FRANCHISE_SLACK_SIGNING_SECRET)"
        )
    problem = slack_request_problem(
        secret, x_slack_request_timestamp, x_slack_signature, body, time.time()
    )
    if problem is not None:
        log.warning("Slack callback refused: %s", problem)
        raise NotAuthenticated(f"Slack request refused: {problem}")
    try:
        payload = json.loads(parse_qs(body.decode())["payload"][0])
        slack_user = str(payload["user"]["id"])
        action = payload["actions"][0]
        token = str(action["value"])
    except (KeyError, IndexError, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidInput("not a Slack block_actions payload with a button value") from None
    person = service.staff_for_slack_user(session, slack_user)
    if person is None:
        return JSONResponse(
            {
                "response_type": "ephemeral",
                "text": "Your Slack user is not linked to a Franchise staff member; decide in "
                "Franchise, or ask an admin to add your Slack member id.",
            }
        )
    try:
        with session.begin_nested():
            link = service.check_link(
                session, token, settings=_settings(request), viewer=person, lock=True
            )
            if link.action not in ("approve", "deny"):
                raise InvalidInput("only Approve and Deny are applied from Slack")
            text = apply_link(session, link, text="", via=f"Slack ({person.name})")
    except FranchiseError as exc:
        return JSONResponse({"response_type": "ephemeral", "text": exc.message})
    return JSONResponse({"response_type": "ephemeral", "text": text})
