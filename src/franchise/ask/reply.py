"""The owner answers an ask: the reply lands on the ticket, goes back to whoever asked, and is
offered as a lesson (for the ticket's runbook, or asking for a new one when none covers it)
so the same question is answered by the system next time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from franchise.accounts.models import Staff
from franchise.ask.models import AskReply
from franchise.contacts.models import OwnerContact
from franchise.db import utcnow
from franchise.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from franchise.escalation.facts import covering_runbook
from franchise.lessons.service import add_lesson
from franchise.people.notices import channel_names, owner_replied
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note

MAX_REPLY = 4000


@dataclass(frozen=True)
class OpenAsk:
    id: int
    ticket_id: int | None
    ticket_title: str
    asker: str | None
    reason: str
    question: str
    emergency: bool
    at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "ticket_id": self.ticket_id,
            "ticket_title": self.ticket_title,
            "asker": self.asker,
            "reason": self.reason,
            "question": self.question,
            "emergency": self.emergency,
            "at": self.at.isoformat(),
        }


_UNANSWERED = (
    OwnerContact.outcome == "interruption",
    OwnerContact.question.is_not(None),
    AskReply.contact_id.is_(None),
)


def open_ask_count(session: Session) -> int:
    """How many asks wait for the owner's answer (the navigation's badge)."""
    query = (
        select(func.count())
        .select_from(OwnerContact)
        .outerjoin(AskReply, AskReply.contact_id == OwnerContact.id)
        .where(*_UNANSWERED)
    )
    return int(session.scalar(query) or 0)


def open_asks(session: Session, *, ticket_id: int | None = None) -> list[OpenAsk]:
    """Asks that reached the owner in the app and have no reply yet, oldest first."""
    query = (
        select(OwnerContact, Ticket.title, Staff.name)
        .outerjoin(Ticket, Ticket.id == OwnerContact.ticket_id)
        .outerjoin(Staff, Staff.id == OwnerContact.staff_id)
        .outerjoin(AskReply, AskReply.contact_id == OwnerContact.id)
        .where(*_UNANSWERED)
        .order_by(OwnerContact.occurred_at, OwnerContact.id)
    )
    if ticket_id is not None:
        query = query.where(OwnerContact.ticket_id == ticket_id)
    return [
        OpenAsk(
            c.id,
            c.ticket_id,
            title or "",
            name,
            c.reason,
            c.question or "",
            c.emergency,
            c.occurred_at,
        )
        for c, title, name in session.execute(query)
    ]


@dataclass(frozen=True)
class TicketAsk:
    """An ask on a ticket as its page shows it: the question, and the answer once given."""

    id: int
    asker: str | None
    asker_id: int | None
    reason: str
    question: str
    emergency: bool
    at: datetime
    answer: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None


def ticket_asks(session: Session, ticket_id: int) -> list[TicketAsk]:
    """Every ask on a ticket that reached the owner, answered or not, oldest first."""
    asker = aliased(Staff)
    replier = aliased(Staff)
    rows = session.execute(
        select(OwnerContact, asker.name, AskReply, replier.name)
        .outerjoin(asker, asker.id == OwnerContact.staff_id)
        .outerjoin(AskReply, AskReply.contact_id == OwnerContact.id)
        .outerjoin(replier, replier.id == AskReply.replied_by_id)
        .where(
            OwnerContact.ticket_id == ticket_id,
            OwnerContact.outcome == "interruption",
            OwnerContact.question.is_not(None),
        )
        .order_by(OwnerContact.occurred_at, OwnerContact.id)
    )
    return [
        TicketAsk(
            c.id,
            name,
            c.staff_id,
            c.reason,
            c.question or "",
            c.emergency,
            c.occurred_at,
            reply.text if reply else None,
            by_name if reply else None,
            reply.replied_at if reply else None,
        )
        for c, name, reply, by_name in rows
    ]


def may_reply(staff_level: str, is_manager: bool) -> bool:
    """Asks are addressed to the owner; an admin may answer for them."""
    return staff_level == "owner" or is_manager


@dataclass(frozen=True)
class Reply:
    contact: OwnerContact
    reply: AskReply
    lesson_id: int | None
    # The asker's notification channels the answer was queued to (e-mail, teams, slack).
    notified: tuple[str, ...] = ()
    # No runbook covers the ticket: the lesson asks for a new one.
    new_runbook: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "contact_id": self.contact.id,
            "ticket_id": self.contact.ticket_id,
            "reply": self.reply.text,
            "lesson_id": self.lesson_id,
            "new_runbook": self.new_runbook,
            "notified": list(self.notified),
        }


def reply_to_ask(
    session: Session, contact_id: int, *, by: Staff, text: str, now: datetime | None = None
) -> Reply:
    """Record the owner's reply on the ask and its ticket, and offer it as a lesson (pending
    until a maintainer folds it in or rejects it): for the ticket's runbook, or, when no
    runbook covers the ticket, as a lesson asking for a new runbook."""
    if not may_reply(by.level, by.is_manager):
        raise PermissionDenied("only the owner (or an admin answering for them) replies to asks")
    body = text.strip()
    if not body:
        raise InvalidInput("write the reply")
    if len(body) > MAX_REPLY:
        raise InvalidInput(f"the reply is over {MAX_REPLY} characters; shorten it")
    contact = session.get(OwnerContact, contact_id, with_for_update=True)
    if contact is None or contact.question is None:
        raise NotFound(f"no ask #{contact_id}")
    if session.get(AskReply, contact_id) is not None:
        raise Conflict(f"ask #{contact_id} was already answered")
    when = now or utcnow()
    reply = AskReply(contact_id=contact.id, text=body, replied_at=when, replied_by_id=by.id)
    session.add(reply)
    lesson_id = None
    new_runbook = False
    ticket = session.get(Ticket, contact.ticket_id) if contact.ticket_id else None
    if ticket is not None:
        add_note(session, ticket, actor=by, kind="owner-reply", note=f"The owner answered: {body}")
        runbook = covering_runbook(session, ticket)
        new_runbook = runbook is None
        lesson = add_lesson(
            session,
            ticket=ticket.id,
            runbook=runbook.key if runbook else None,
            text=_lesson_text(contact.question, body, new_runbook=new_runbook),
            author=by,
            now=when,
        )
        lesson_id = lesson.id
    session.flush()
    queued = owner_replied(session, contact, by, body)
    return Reply(contact, reply, lesson_id, tuple(channel_names(queued)), new_runbook)


def _lesson_text(question: str, answer: str, *, new_runbook: bool) -> str:
    todo = (
        "No runbook covers this ticket: write one for tickets like it, with this answer in it, "
        "so the question is answered without the owner next time."
        if new_runbook
        else "Turn this into a runbook step, an escalation rule or a template so the "
        "question is answered without the owner next time."
    )
    return f"Asked the owner: {_short(question)}\nThe owner answered: {_short(answer)}\n{todo}"


def _short(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def answered_line(session: Session, contact_id: int) -> str | None:
    """Where an answered ask's reply went, for the owner who just sent it; None when the ask
    is unknown or not answered."""
    contact = session.get(OwnerContact, contact_id)
    if contact is None or session.get(AskReply, contact_id) is None:
        return None
    asker = session.get(Staff, contact.staff_id) if contact.staff_id else None
    who = asker.name if asker else "whoever asked"
    where = f" on ticket #{contact.ticket_id}" if contact.ticket_id else ""
    return f"Answer sent: {who} sees it{where} and in their notifications."
