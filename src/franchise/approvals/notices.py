"""Who hears of an approval: a pending request goes to those at its approver level who may
decide it (the owner and admins only when nobody at that level may: every owner
notification is an interruption); a decision goes back to the requester. Both through the
outbox (people.notices), so nothing is sent for a request that rolls back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.approvals.details import ApprovalDetails, approval_details
from franchise.approvals.models import ApprovalRequest
from franchise.approvals.service import may_decide
from franchise.errors import InvalidInput
from franchise.orgsettings.service import get_config
from franchise.orgsettings.values import OrgConfig
from franchise.people.cards import Button, Notice
from franchise.people.feed import approval_link, settle, ticket_link
from franchise.people.notices import (
    Queued,
    notify_person,
    settings_of,
    ticket_button,
    ticket_fact,
)
from franchise.people.service import issue_link, link_url


def deciders(session: Session, request: ApprovalRequest) -> list[Staff]:
    level = request.approver_level or "owner"
    people = list(
        session.scalars(
            select(Staff).where(Staff.active, Staff.id != request.requester_id).order_by(Staff.id)
        )
    )
    at_level = [p for p in people if p.level == level and may_decide(session, request, p)]
    if at_level:
        return at_level
    return [p for p in people if p.is_manager and may_decide(session, request, p)]


def approval_pending(session: Session, request: ApprovalRequest) -> list[Queued]:
    # Sent up a level by its timeout: those it waited for before are no longer asked.
    settle(session, approval_link(request.id))
    settings = settings_of(session)
    config = _config(session)
    shown = approval_details(session, [request], config.currency)[0]
    who = shown.requester
    queued: list[Queued] = []
    for person in deciders(session, request):
        buttons = [
            Button(
                label,
                link_url(settings, token),
                action,
                token,
            )
            for label, action in (("Approve", "approve"), ("Deny", "deny"))
            for token in [
                issue_link(
                    session,
                    person,
                    action=action,
                    target_kind="approval",
                    target_id=request.id,
                    settings=settings,
                )
            ]
        ]
        notice = Notice(
            title=f"Approval #{request.id} waits for you",
            text=f"{who} asks to: {shown.step_text or request.action}",
            facts=(
                *_ticket_facts(session, shown),
                ("Cost", shown.cost),
                ("Impact", request.impact),
                ("Decide by", _local(config, request.timeout_at)),
            ),
            buttons=(*buttons, *ticket_button(settings, request.ticket_id)),
        )
        queued += notify_person(
            session,
            person,
            notice,
            ticket_id=request.ticket_id,
            settings=settings,
            what=f"approval #{request.id} waits for them",
            link=approval_link(request.id),
        )
    return queued


def approval_decided(session: Session, request: ApprovalRequest, by: Staff | None) -> list[Queued]:
    # Decided: the other deciders' "waits for you" notices need nobody any more.
    settle(session, approval_link(request.id))
    requester = session.get(Staff, request.requester_id)
    if requester is None or (by is not None and by.id == requester.id):
        return []
    settings = settings_of(session)
    decider = by.name if by is not None else "the timeout rule"
    shown = approval_details(session, [request], _config(session).currency)[0]
    notice = Notice(
        title=f"Approval #{request.id} {request.status}",
        text=f"{decider} {request.status} your request: {shown.step_text or request.action}",
        facts=(
            *_ticket_facts(session, shown),
            ("Reason", shown.decision_reason or "-"),
        ),
        buttons=ticket_button(settings, request.ticket_id),
    )
    return notify_person(
        session,
        requester,
        notice,
        ticket_id=request.ticket_id,
        settings=settings,
        what=f"approval #{request.id} {request.status}",
        link=ticket_link(request.ticket_id) if request.ticket_id else "/approvals",
    )


def _config(session: Session) -> OrgConfig:
    try:
        return get_config(session)
    except InvalidInput:
        # A bad stored setting is reported on the Settings page; a notice still goes out.
        return OrgConfig()


def _ticket_facts(session: Session, shown: ApprovalDetails) -> tuple[tuple[str, str], ...]:
    facts = ticket_fact(session, shown.request.ticket_id)
    return (*facts, ("Client", shown.client)) if shown.client else facts


def _local(config: OrgConfig, when: datetime | None) -> str:
    """The deadline in the organisation's time zone, as every page shows times."""
    if when is None:
        return "-"
    return when.astimezone(config.tz).strftime("%d %b %Y, %H:%M") + f" ({config.timezone})"
