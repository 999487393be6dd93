"""How a ticket page action answers: its service call in a savepoint, then the page's live
panels for htmx (out-of-band swaps, so one answer updates the runner, the escalation panel
and the history together) or, without JavaScript, a redirect back to the page or the page
with the refusal. The ticket page's route modules (ticket_page, ticket_runner, ticket_ask)
share it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.sessions import SignedIn
from franchise.api.after_commit import AfterCommit
from franchise.api.deps import get_db
from franchise.errors import Conflict, FranchiseError
from franchise.escalation.service import refusal_hint
from franchise.tickets.models import Ticket
from franchise.tickets.service import get_ticket
from franchise.web.templating import render
from franchise.web.ticket_view import Notice, page_context

T = TypeVar("T")
Text = Annotated[str, Form(max_length=5000)]


def act(session: Session, action: Callable[[], T]) -> tuple[T | None, FranchiseError | None]:
    """Run one service call in a savepoint: a refusal leaves nothing half-written."""
    try:
        with session.begin_nested():
            return action(), None
    except FranchiseError as exc:
        return None, exc
    except IntegrityError:
        # Two people answering the same step at once: the database keeps the first.
        return None, Conflict("someone changed this ticket at the same moment; reload and retry")


def respond(
    request: Request,
    session: Session,
    ticket: Ticket,
    user: SignedIn,
    *,
    panel: str,
    notice: Notice | None = None,
    status: int = 200,
    show: bool = False,
    also: tuple[str, ...] = (),
    adjust: Callable[[dict[str, Any]], None] | None = None,
) -> Response:
    """htmx: the live panels (out of band); plain forms: back to the page, or the page with
    the refusal (or with a result worth reading, when `show`). `adjust` changes the page's
    context before it is rendered (the message box showing a draft that did not go)."""
    htmx = request.headers.get("hx-request") == "true"
    if not htmx and status < 400 and not show:
        return RedirectResponse(f"/tickets/{ticket.id}#{panel}", status_code=303)
    session.refresh(ticket)
    context = page_context(session, ticket, user, notice)
    if adjust is not None:
        adjust(context)
    if not htmx:
        return render(request, "ticket.html", context, status=status)
    context.update(oob=True, panel=panel, also=also)
    response = render(request, "partials/ticket_live.html", context, status=status)
    # ticket.js lets htmx swap refusals (409, 422 ...) that carry this header.
    response.headers["X-Ticket-Panels"] = "1"
    return response


def answer_after_commit(
    request: Request, ticket_id: int, answer: Callable[[Session, Ticket], Response]
) -> Response:
    """Answer once the request has committed and its e-mails and notifications went out,
    reading the page afresh (their outcomes are in the history by then)."""

    def build() -> Response:
        with get_db(request).unit_of_work() as session:
            return answer(session, get_ticket(session, ticket_id))

    return AfterCommit(build)


def _refused(exc: FranchiseError, panel: str) -> Notice:
    hint = refusal_hint(exc)
    lines = (f"Next runbook step: {hint}",) if hint else ()
    return Notice(panel, "error", exc.message, lines)


def finish(
    request: Request,
    session: Session,
    ticket: Ticket,
    user: SignedIn,
    panel: str,
    error: FranchiseError | None,
    ok: str = "",
) -> Response:
    if error is not None:
        refusal = _refused(error, panel)
        return respond(
            request, session, ticket, user, panel=panel, notice=refusal, status=error.status
        )
    notice = Notice(panel, "ok", ok) if ok else None
    return respond(request, session, ticket, user, panel=panel, notice=notice)
