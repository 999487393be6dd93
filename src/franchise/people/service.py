"""People's notification channels (sealed), and the signed single-use links sent to them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.db import utcnow
from franchise.errors import FranchiseError, InvalidInput, PermissionDenied
from franchise.orgsettings.sealing import derived_key, seal
from franchise.people.models import KINDS, ActionLink, StaffChannel
from franchise.people.signing import link_mac, macs_match, new_link_id, split_token
from franchise.settings import Settings

ACTIONS = ("approve", "deny", "answer", "open")
TARGETS = ("approval", "ticket", "ask")
LINK_PURPOSE = "action-links"
MAX_URL = 2000
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,30}$")
EXAMPLES = {
    "teams": "the URL of a Teams Workflows webhook (https://...logic.azure.com/... or "
    "https://...powerplatform.com/...)",
    "slack": "a Slack incoming webhook URL (https://hooks.slack.com/services/...)",
}


class LinkRefused(FranchiseError):
    """A used, expired, altered or someone else's link."""

    code = "link_refused"
    status = 403


@dataclass(frozen=True)
class ChannelView:
    """What may be shown about a channel: never the URL, which is the credential."""

    kind: str
    host: str
    slack_user_id: str | None
    # Why the newest notification on it did not arrive (None: it did, or none was sent yet).
    trouble: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "host": self.host,
            "slack_user_id": self.slack_user_id,
            "trouble": self.trouble,
        }


def _check_may_edit(staff: Staff, by: Staff | None) -> None:
    """`by` None: the command line, run by whoever administers the server."""
    if by is not None and by.id != staff.id and not by.is_manager:
        raise PermissionDenied("only the person themselves, the owner or an admin may change this")


def parse_webhook_url(kind: str, raw: str) -> str:
    if kind not in KINDS:
        raise InvalidInput(f"unknown channel '{kind}' (use {' or '.join(KINDS)})")
    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > MAX_URL:
        raise InvalidInput(f"{kind} channel: use {EXAMPLES[kind]}")
    if any(c.isspace() for c in url):
        raise InvalidInput(f"{kind} channel: the URL contains a space; paste it again")
    return url


def set_channel(
    session: Session,
    staff: Staff,
    *,
    kind: str,
    url: str,
    by: Staff | None,
    settings: Settings,
    slack_user_id: str | None = None,
) -> StaffChannel:
    """Store (or replace) a person's Teams or Slack webhook, sealed."""
    _check_may_edit(staff, by)
    clean = parse_webhook_url(kind, url)
    member = (slack_user_id or "").strip() or None
    if member is not None and (kind != "slack" or not _SLACK_USER.match(member)):
        raise InvalidInput(
            "Slack member id: copy it from the person's Slack profile (More > Copy member ID), "
            "e.g. U024BE7LH"
        )
    row = session.scalar(
        select(StaffChannel).where(StaffChannel.staff_id == staff.id, StaffChannel.kind == kind)
    )
    if row is None:
        row = StaffChannel(staff_id=staff.id, kind=kind, url_sealed="")
        session.add(row)
    row.url_sealed = seal(settings, clean)
    row.slack_user_id = member
    row.updated_at = utcnow()
    session.flush()
    return row


def clear_channel(session: Session, staff: Staff, *, kind: str, by: Staff | None) -> bool:
    _check_may_edit(staff, by)
    if kind not in KINDS:
        raise InvalidInput(f"unknown channel '{kind}' (use {' or '.join(KINDS)})")
    row = session.scalar(
        select(StaffChannel).where(StaffChannel.staff_id == staff.id, StaffChannel.kind == kind)
    )
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def channels_of(session: Session, staff_id: int) -> list[StaffChannel]:
    return list(
        session.scalars(
            select(StaffChannel)
            .where(StaffChannel.staff_id == staff_id)
            .order_by(StaffChannel.kind)
        )
    )


def describe_channels(session: Session, staff: Staff, settings: Settings) -> list[ChannelView]:
    from franchise.orgsettings.sealing import Unsealable, unseal

    views = []
    for row in channels_of(session, staff.id):
        try:
            host = urlsplit(unseal(settings, row.url_sealed)).hostname or "?"
        except Unsealable:
            host = "unreadable: enter the URL again"
        trouble = _delivery_trouble(session, staff.id, row)
        views.append(ChannelView(row.kind, host, row.slack_user_id, trouble))
    return views


# How far back the newest notifications are looked through for a channel's last delivery.
RECENT_DELIVERIES = 200


def _delivery_trouble(session: Session, staff_id: int, channel: StaffChannel) -> str | None:
    """Why the newest notification sent on this channel since it was set has not arrived:
    a webhook that was deleted or mistyped fails in the outbox, where nobody looks."""
    from franchise.outbox.models import OutboxItem
    from franchise.people.outbound import KIND

    rows = session.scalars(
        select(OutboxItem)
        .where(OutboxItem.kind == KIND, OutboxItem.created_at >= channel.updated_at)
        .order_by(OutboxItem.id.desc())
        .limit(RECENT_DELIVERIES)
    )
    for item in rows:
        if item.payload.get("staff_id") != staff_id or item.payload.get("via") != channel.kind:
            continue
        if item.state == "delivered" or not item.last_error:
            return None
        if item.state == "failed":
            return f"the last notification was not delivered: {item.last_error}"
        return f"the last notification is being retried: {item.last_error}"
    return None


def staff_for_slack_user(session: Session, slack_user_id: str) -> Staff | None:
    row = session.scalar(
        select(StaffChannel).where(
            StaffChannel.kind == "slack", StaffChannel.slack_user_id == slack_user_id
        )
    )
    return session.get(Staff, row.staff_id) if row is not None else None


# --- signed links ---------------------------------------------------------------------------


def _target(kind: str, target_id: int) -> str:
    return f"{kind}:{target_id}"


def issue_link(
    session: Session,
    staff: Staff,
    *,
    action: str,
    target_kind: str,
    target_id: int,
    settings: Settings,
    now: datetime | None = None,
) -> str:
    """A token for one person, one action on one target, valid `action_link_minutes`."""
    if action not in ACTIONS or target_kind not in TARGETS:
        raise ValueError(f"unknown link {action} {target_kind}")
    when = now or utcnow()
    expires = when + timedelta(minutes=settings.action_link_minutes)
    link = ActionLink(
        id=new_link_id(),
        staff_id=staff.id,
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        created_at=when,
        expires_at=expires.replace(microsecond=0),
    )
    session.add(link)
    session.flush()
    mac = link_mac(
        derived_key(settings, LINK_PURPOSE),
        link.id,
        staff.id,
        action,
        _target(target_kind, target_id),
        link.expires_at,
    )
    return f"{link.id}.{mac}"


def link_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/l/{token}"


def check_link(
    session: Session,
    token: str,
    *,
    settings: Settings,
    viewer: Staff | None,
    now: datetime | None = None,
    lock: bool = False,
) -> ActionLink:
    """The link behind a token, or LinkRefused saying plainly why it cannot be used.

    `viewer` is whoever is signed in in this browser: a link forwarded to someone else is
    refused, so it cannot act in another person's name.
    """
    parts = split_token(token)
    if parts is None:
        raise LinkRefused(
            "This link is not valid: it was changed or cut short. Open it again "
            "from the notification, or decide in Franchise."
        )
    link_id, mac = parts
    link = session.get(ActionLink, link_id, with_for_update=lock)
    expected = (
        link_mac(
            derived_key(settings, LINK_PURPOSE),
            link.id,
            link.staff_id,
            link.action,
            _target(link.target_kind, link.target_id),
            link.expires_at,
        )
        if link is not None
        else ""
    )
    if link is None or not macs_match(expected, mac):
        raise LinkRefused(
            "This link is not valid: it was changed or cut short. Open it again "
            "from the notification, or decide in Franchise."
        )
    if viewer is not None and viewer.id != link.staff_id:
        raise LinkRefused(
            f"This link was sent to someone else, and you are signed in as {viewer.name}. "
            "Links act only for the person they were sent to; decide in Franchise instead."
        )
    if link.used_at is not None:
        raise LinkRefused(
            f"This link was already used at {link.used_at:%H:%M} UTC. Each link works once; "
            "open Franchise to see what happened."
        )
    if (now or utcnow()) >= link.expires_at:
        raise LinkRefused(
            f"This link expired at {link.expires_at:%H:%M} UTC (links are valid "
            f"{settings.action_link_minutes} minutes). Decide in Franchise instead."
        )
    return link


def use_link(session: Session, link: ActionLink, now: datetime | None = None) -> None:
    link.used_at = now or utcnow()
    session.flush()
