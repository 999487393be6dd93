"""The ticket page's Ask the owner and lessons panels: a technician asks (answered by
policy when it can be, else sent to the owner), the owner answers on the ticket, and what
the ticket taught becomes a lesson for the weekly runbook update."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.models import Staff
from franchise.api.deps import DbSession
from franchise.ask.reply import MAX_REPLY, Reply, may_reply, reply_to_ask, ticket_asks
from franchise.ask.service import CHANNEL_NAMES, ask_owner
from franchise.errors import NotFound, PermissionDenied
from franchise.lessons.service import add_lesson
from franchise.tickets.models import Ticket
from franchise.tickets.service import get_ticket
from franchise.web.auth import CurrentUser, check_csrf
from franchise.web.ticket_answer import Text, act, answer_after_commit, finish, respond
from franchise.web.ticket_view import Notice, staff_row

router = APIRouter(dependencies=[Depends(check_csrf)])


@router.post("/tickets/{ticket_id}/ask")
def ask(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    reason: Annotated[str, Form(max_length=40)],
    question: Text,
    emergency: Annotated[bool, Form()] = False,
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)
    settings = request.app.state.settings
    result, error = act(
        session,
        lambda: ask_owner(
            session,
            ticket=ticket,
            by=me,
            reason=reason,
            question=question,
            emergency=emergency,
            settings=settings,
        ),
    )
    if error is not None:
        return finish(request, session, ticket, user, "ask", error)
    assert result is not None
    headline = {
        "deflection": ("ok", "Answered without the owner"),
        "refused": ("warn", "Refused: the owner is offline for a drill"),
        "interruption": ("info", "Sent to the owner"),
    }[result.outcome]
    # The answer often opens with the headline's own words ("Sent to the owner: ...",
    # "Refused: ..."): say them once.
    said = result.answer.text
    opening = headline[1].split(":")[0]
    text = said if said.split(":")[0] == opening else f"{headline[1]}. {said}"

    def answer(session: Session, ticket: Ticket) -> Response:
        lines = result.answer.guidance
        # In this unit of work: on SQLite another one would wait for this one's lock.
        settled = result.settle_in(session)
        said_how = settled.delivery_text()  # names the channels that carried it
        if said_how is not None:
            lines = (*lines, said_how)
        notice = Notice("ask", headline[0], text, lines)
        return respond(request, session, ticket, user, panel="ask", notice=notice, show=True)

    return answer_after_commit(request, ticket_id, answer)


@router.post("/tickets/{ticket_id}/asks/{ask_id}/reply")
def ask_reply(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    ask_id: int,
    text: Annotated[str, Form(max_length=MAX_REPLY)] = "",
) -> Response:
    """The owner (or an admin for them) answers an ask on its ticket: the answer is in the
    history, goes back to the technician and is offered as a lesson."""
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)

    def answer() -> Reply:
        if not may_reply(me.level, me.is_manager):
            raise PermissionDenied(
                "only the owner (or an admin answering for them) replies to asks"
            )
        if all(a.id != ask_id for a in ticket_asks(session, ticket.id)):
            raise NotFound(f"ticket #{ticket.id} has no ask #{ask_id}")
        return reply_to_ask(session, ask_id, by=me, text=text)

    reply, error = act(session, answer)
    if error is not None:
        return finish(request, session, ticket, user, "ask", error)
    assert reply is not None
    notice = Notice("ask", "ok", _reply_text(session, reply), _lesson_lines(reply))
    # Who was told and the lesson offered are worth reading, also without JavaScript.
    return respond(
        request, session, ticket, user, panel="ask", notice=notice, show=True, also=("lesson",)
    )


def _reply_text(session: Session, reply: Reply) -> str:
    asker = session.get(Staff, reply.contact.staff_id) if reply.contact.staff_id else None
    who = asker.name if asker else "the technician who asked"
    if reply.notified:
        ways = ", ".join(CHANNEL_NAMES.get(v, v) for v in reply.notified)
        return f"Answer saved on the ticket and sent to {who} ({ways})."
    return (
        f"Answer saved on the ticket. {who} has no notification channel set up, so they "
        "see it here on the ticket."
    )


def _lesson_lines(reply: Reply) -> tuple[str, ...]:
    if reply.lesson_id is None:
        return ()
    if reply.new_runbook:
        return (
            f"No runbook covers this ticket, so the answer was offered as lesson "
            f"#{reply.lesson_id} (below): a new runbook is needed for tickets like this one, "
            "so nobody has to ask again.",
        )
    return (
        f"Offered as lesson #{reply.lesson_id} (below): turn this answer into a runbook "
        "change, an escalation rule or a template, so nobody has to ask again.",
    )


@router.post("/tickets/{ticket_id}/lesson")
def lesson(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    text: Text,
    # Empty: "a new runbook is needed (no runbook fits this ticket)".
    runbook: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)
    for_runbook = runbook or None
    _, error = act(
        session,
        lambda: add_lesson(session, ticket=ticket.id, runbook=for_runbook, text=text, author=me),
    )
    ok = (
        f"Lesson saved for {runbook}; fold it into the runbook before the week ends."
        if for_runbook
        else "Lesson saved: a new runbook is needed for tickets like this one. A maintainer "
        "writes it, folding this lesson in, or says why not, before the week ends."
    )
    return finish(request, session, ticket, user, "lesson", error, ok)
