"""Who hears of an approval: a pending request goes to those at its approver level who may
decide it (the owner and admins only when nobody at that level may: every owner
notification is an interruption); a decision goes back to the requester. Both through the
outbox (people.notices), so nothing is sent for a request that rolls back.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.approvals.models import ApprovalRequest
from franchise.approvals.service import may_decide
from franchise.people.cards import Button, Notice
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
    settings = settings_of(session)
    requester = session.get(Staff, request.requester_id)
    who = requester.name if requester else "someone"
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
            text=f"{who} asks to: {request.action}",
            facts=(
                *ticket_fact(session, request.ticket_id),
                ("Cost", f"{request.cost} ({request.recurring})"),
                ("Impact", request.impact),
                ("Decide by", f"{request.timeout_at:%H:%M} UTC" if request.timeout_at else "-"),
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
        )
    return queued


def approval_decided(session: Session, request: ApprovalRequest, by: Staff | None) -> list[Queued]:
    requester = session.get(Staff, request.requester_id)
    if requester is None or (by is not None and by.id == requester.id):
        return []
    settings = settings_of(session)
    decider = by.name if by is not None else "the timeout rule"
    notice = Notice(
        title=f"Approval #{request.id} {request.status}",
        text=f"{decider} {request.status} your request: {request.action}",
        facts=(
            *ticket_fact(session, request.ticket_id),
            ("Reason", request.reason.splitlines()[-1] if request.reason else "-"),
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
    )
