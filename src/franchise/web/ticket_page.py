"""The technician's ticket page and its actions on the ticket itself: escalation, the client
message, the done checklist and resolving, assignment, status and requester. The runbook
runner's actions are in web/ticket_runner.py, Ask the owner and lessons in web/ticket_ask.py,
the runbook panel in web/ticket_runbook.py, notes in web/ticket_notes.py.

Every action is a form POST, answered as web/ticket_answer.py says. What the page shows is
built in web/ticket_view.py; the handlers here call a service and answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.service import get_staff
from franchise.accounts.sessions import SignedIn
from franchise.api.deps import DbSession
from franchise.errors import FranchiseError
from franchise.flows import escalations, resolving
from franchise.messages.service import AutoSend, message_in, send_message, settle_auto_send_in
from franchise.messages.smtp import SmtpConfig
from franchise.orgsettings.secrets import effective_settings
from franchise.settings import Settings
from franchise.tickets import lifecycle
from franchise.tickets.models import Ticket
from franchise.tickets.requester import change_requester
from franchise.tickets.service import get_ticket
from franchise.web.auth import CurrentUser, check_csrf
from franchise.web.templating import render
from franchise.web.ticket_answer import Text, act, answer_after_commit, finish, respond
from franchise.web.ticket_view import (
    Notice,
    keep_draft,
    page_context,
    preview,
    same_text,
    staff_row,
)

router = APIRouter(dependencies=[Depends(check_csrf)])


@router.get("/tickets/{ticket_id}")
def ticket_page(
    request: Request, session: DbSession, user: CurrentUser, ticket_id: int
) -> Response:
    ticket = get_ticket(session, ticket_id)
    return render(request, "ticket.html", page_context(session, ticket, user))


@router.post("/tickets/{ticket_id}/escalate")
def escalate(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    to: Annotated[str, Form(max_length=32)],
    override_reason: Text = "",
    edge_case: Annotated[int | None, Form(ge=1)] = None,
    note: Text = "",
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)
    reason = override_reason.strip() or None
    _, error = act(
        session,
        lambda: escalations.escalate(
            session,
            ticket,
            to=to,
            by=me,
            override_reason=reason,
            edge_case=edge_case,
            note=note,
            require_note=True,
        ),
    )
    return finish(request, session, ticket, user, "escalation", error, f"Escalated to {to}.")


@router.get("/tickets/{ticket_id}/message/preview")
def message_preview(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    template: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    ticket = get_ticket(session, ticket_id)
    shown = preview(session, ticket, staff_row(session, user), template)
    return render(request, "partials/ticket_preview.html", {"preview": shown})


@router.post("/tickets/{ticket_id}/message")
def message_send(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    template: Annotated[str, Form(max_length=100)],
    body: Annotated[str | None, Form(max_length=20_000)] = None,
    cc_primary: Annotated[str, Form(max_length=3)] = "",
    body_template: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """`body_template` is the template the text in the box came from. Without JavaScript
    choosing another template does not reload the text: unedited, the chosen template's own
    text goes instead of the previous one's."""
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)
    settings = request.app.state.settings
    if body is not None and body_template and body_template != template:
        earlier = preview(session, ticket, me, body_template)
        if not earlier["error"] and same_text(body, earlier["body"]):
            body = None
    draft = Draft(template, body, cc_primary == "yes")
    message, error = act(
        session,
        lambda: send_message(
            session,
            ticket,
            template=template,
            by=me,
            settings=settings,
            body=body,
            cc_primary=cc_primary == "yes",
        ),
    )
    if error is not None:
        notice = _not_sent(session, settings, error)
        return _composer_answer(request, session, ticket, user, notice, error.status, draft)
    assert message is not None
    message_id = message.id

    def answer(session: Session, ticket: Ticket) -> Response:
        # Read in this unit of work: on SQLite a second one would wait for this one's lock.
        sent = message_in(session, message_id)
        if sent.status in ("failed", "retrying"):
            # Recorded on the ticket (the request committed before the e-mail went).
            later = "; it will be tried again" if sent.status == "retrying" else ""
            text = f"Not delivered to {sent.to_address}: {sent.error}{later}"
            notice = Notice("composer", "error", text)
            return _composer_answer(request, session, ticket, user, notice, 502, draft)
        verb = "Sent" if sent.status == "sent" else "Queued"
        copy = f" (copy to {sent.cc_address})" if sent.cc_address else ""
        notice = Notice("composer", "ok", f"{verb} to {sent.to_address}{copy}: {sent.subject}")
        return respond(request, session, ticket, user, panel="composer", notice=notice)

    return answer_after_commit(request, ticket_id, answer)


@dataclass(frozen=True)
class Draft:
    """What the technician sent from the message box, given back when it did not go."""

    template: str
    body: str | None
    cc_primary: bool


MAIL_NOT_SET_UP = (
    "E-mail sending is not set up yet, so this message was not sent. An admin can set it up "
    "on the Settings page (Client e-mail). Meanwhile, copy the message below and send it "
    "from your own mail program or the PSA: what you wrote is still there."
)


def _not_sent(session: Session, settings: Settings, error: FranchiseError) -> Notice:
    """A refused send in a technician's words. The delivery settings are checked before
    anything else, so when they are incomplete that is what the refusal is about."""
    try:
        SmtpConfig.from_settings(effective_settings(session, settings))
    except FranchiseError:
        return Notice("composer", "error", MAIL_NOT_SET_UP, (f"Details: {error.message}",))
    return Notice("composer", "error", error.message)


def _composer_answer(
    request: Request,
    session: Session,
    ticket: Ticket,
    user: SignedIn,
    notice: Notice,
    status: int,
    draft: Draft,
) -> Response:
    """web/ticket_answer.respond for a send that did not go, with the message box showing
    the draft instead of the template's text."""

    def keep(context: dict[str, Any]) -> None:
        context["composer"] = keep_draft(
            session,
            ticket,
            staff_row(session, user),
            context["composer"],
            template=draft.template,
            body=draft.body,
            cc_primary=draft.cc_primary,
        )

    return respond(
        request,
        session,
        ticket,
        user,
        panel="composer",
        notice=notice,
        status=status,
        show=True,
        adjust=keep,
    )


@router.post("/tickets/{ticket_id}/done")
def tick_done(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    item: Annotated[str, Form(max_length=500)],
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)
    _, error = act(session, lambda: lifecycle.check_item(session, ticket, item, by=me))
    return finish(request, session, ticket, user, "done", error)


@router.post("/tickets/{ticket_id}/resolve")
def resolve(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    override_reason: Text = "",
    skip_reason: Text = "",
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)
    reason = override_reason.strip() or None
    settings = request.app.state.settings
    result, error = act(
        session,
        lambda: resolving.resolve(
            session,
            ticket,
            by=me,
            settings=settings,
            override_reason=reason,
            skip_reason=skip_reason,
        ),
    )
    if error is not None:
        return finish(request, session, ticket, user, "done", error)
    assert result is not None
    queued = result[1]

    def answer(session: Session, ticket: Ticket) -> Response:
        notice = _resolved_notice(settle_auto_send_in(session, queued))
        # A message that did not go out is worth reading, also without JavaScript.
        return respond(
            request, session, ticket, user, panel="done", notice=notice, show=notice.tone != "ok"
        )

    return answer_after_commit(request, ticket_id, answer)


def _resolved_notice(sent: AutoSend) -> Notice:
    if sent.status == "off":
        text = "Resolved. Send the client the resolved message below if you have not yet."
        return Notice("done", "ok", text)
    if sent.status in ("sent", "queued"):
        return Notice("done", "ok", f"Resolved. {sent.text}.")
    return Notice("done", "warn", f"Resolved. {sent.text}. Send it below once that is fixed.")


@router.post("/tickets/{ticket_id}/assign")
def assign(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    to: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)

    def do_assign() -> None:
        assignee = get_staff(session, to) if to.strip() else None
        lifecycle.assign(session, ticket, assignee, by=me)

    _, error = act(session, do_assign)
    return finish(request, session, ticket, user, "facts", error)


@router.post("/tickets/{ticket_id}/status")
def change_status(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    status: Annotated[str, Form(max_length=40)],
) -> Response:
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)
    _, error = act(session, lambda: lifecycle.set_status(session, ticket, status, by=me))
    return finish(request, session, ticket, user, "facts", error)


@router.post("/tickets/{ticket_id}/reopen")
def reopen(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    reason: Text = "",
) -> Response:
    """Open a resolved ticket again; anyone who may set a ticket's status may (the status
    route's rule), and the history says who and why."""
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)
    status, error = act(session, lambda: lifecycle.reopen(session, ticket, by=me, reason=reason))
    back = (status or "").replace("_", " ")
    return finish(
        request, session, ticket, user, "done", error, f"Reopened: the ticket is {back} again."
    )


@router.post("/tickets/{ticket_id}/requester")
def change_ticket_requester(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    requester: Annotated[str, Form(max_length=12)],
) -> Response:
    """`requester` is a contact id of the ticket's client, or "none" to clear it."""
    ticket = get_ticket(session, ticket_id)
    me = staff_row(session, user)
    chosen = None if requester == "none" else requester
    _, error = act(session, lambda: change_requester(session, ticket, chosen, actor=me))
    return finish(request, session, ticket, user, "facts", error)
