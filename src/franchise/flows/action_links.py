"""What a signed link (or a Slack button carrying one) does, and what its page says first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.approvals.service import get_request
from franchise.ask.models import AskReply
from franchise.ask.reply import reply_to_ask
from franchise.contacts.models import OwnerContact
from franchise.errors import Conflict, InvalidInput, NotFound
from franchise.flows.approvals import decide_request
from franchise.people.models import ActionLink
from franchise.people.service import use_link

VERBS = {"approve": "Approve", "deny": "Deny", "answer": "Answer"}


@dataclass(frozen=True)
class Preview:
    """What the confirm page shows before anything changes."""

    heading: str
    detail: str
    ticket_id: int | None
    needs_text: bool  # a reply to write (answer) rather than an optional reason
    label: str


def preview(session: Session, link: ActionLink) -> Preview:
    staff = session.get(Staff, link.staff_id)
    name = staff.name if staff else "?"
    if link.target_kind == "approval":
        request = get_request(session, link.target_id)
        if request.status != "pending":
            raise Conflict(f"Approval #{request.id} is already {request.status}; nothing to do.")
        verb = VERBS[link.action]
        return Preview(
            heading=f"{verb} approval #{request.id} as {name}?",
            detail=f"{request.action} (cost {request.cost}, impact {request.impact})",
            ticket_id=request.ticket_id,
            needs_text=False,
            label=verb,
        )
    if link.target_kind == "ask":
        contact = _ask(session, link.target_id)
        return Preview(
            heading=f"Answer ask #{contact.id} as {name}",
            detail=contact.question or "",
            ticket_id=contact.ticket_id,
            needs_text=True,
            label="Send answer",
        )
    raise NotFound("this link points at nothing that can be done")


def _ask(session: Session, contact_id: int) -> OwnerContact:
    contact = session.get(OwnerContact, contact_id)
    if contact is None or contact.question is None:
        raise NotFound(f"no ask #{contact_id}")
    if session.get(AskReply, contact_id) is not None:
        raise Conflict(f"Ask #{contact_id} was already answered.")
    return contact


def apply_link(
    session: Session, link: ActionLink, *, text: str, via: str, now: datetime | None = None
) -> str:
    """Do what the link was made for, in its person's name, and spend it. Returns a line
    for the result page. The caller has checked the link (check_link with lock=True)."""
    staff = session.get(Staff, link.staff_id)
    if staff is None or not staff.active:
        raise Conflict("the person this link was sent to is no longer active")
    if link.target_kind == "approval":
        request = get_request(session, link.target_id)
        approve = link.action == "approve"
        reason = text.strip() or f"{'approved' if approve else 'denied'} from {via}"
        decide_request(session, request, by=staff, approve=approve, reason=reason, now=now)
        use_link(session, link, now)
        return f"Approval #{request.id} {request.status}. The technician's runner has it."
    if link.target_kind == "ask":
        if not text.strip():
            raise InvalidInput("write the answer")
        reply_to_ask(session, link.target_id, by=staff, text=text, now=now)
        use_link(session, link, now)
        return f"Answer recorded on ask #{link.target_id}; the technician has been told."
    raise NotFound("this link points at nothing that can be done")
