"""What a person needs to decide an approval without opening the ticket, and what the
requester needs to know of the decision. A read helper for the approvals page: the ticket
and client, the runbook step and the run's inputs, who asked (by name) and in their own
words, the cost as money; who decided and why.

Reads a page's worth of requests in a handful of queries, never one per request per fact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.approvals.boundaries import PAYMENTS_PER_YEAR
from franchise.approvals.models import ApprovalRequest
from franchise.clients.models import Client
from franchise.contacts.models import OwnerContact
from franchise.errors import FranchiseError
from franchise.runbooks import service as runbooks
from franchise.runbooks.definition import Runbook as RunbookDef
from franchise.runbooks.models import Runbook, RunbookRun, RunStep
from franchise.tickets.models import Ticket, TicketEvent

# Written before the amount; any other ISO code follows it ("18.00 CHF"), which nobody misreads.
SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€", "AUD": "A$", "CAD": "C$", "NZD": "NZ$"}
PER = {"month": "/month", "year": "/year"}
# An ask and the approval it records are written with the same time; a little slack still
# pairs them should a caller ever stamp them apart.
ASK_SLACK = timedelta(seconds=5)


def money(amount: Decimal, currency: str) -> str:
    """Decimal('1200') with GBP -> '£1,200.00'; with CHF -> '1,200.00 CHF'."""
    number = f"{amount:,.2f}"
    code = currency.upper()
    symbol = SYMBOLS.get(code)
    return f"{symbol}{number}" if symbol else f"{number} {code}"


def cost_label(amount: Decimal, recurring: str, currency: str) -> str:
    """'£18.00/month (£216.00 a year)', '£300.00/year', '£240.00', or 'No cost': as the asker
    gave it, and for a monthly cost the yearly sum that the limits compare."""
    if not amount:
        return "No cost"
    text = money(amount, currency) + PER.get(recurring, "")
    if recurring == "month":
        text += f" ({money(amount * PAYMENTS_PER_YEAR['month'], currency)} a year)"
    return text


@dataclass(frozen=True)
class Note:
    """The requester's own words: the question they asked, or their latest note."""

    text: str
    at: datetime
    source: str  # ask | note | step


@dataclass(frozen=True)
class ApprovalDetails:
    request: ApprovalRequest
    cost: str
    requester: str
    ticket_title: str | None = None
    client_id: int | None = None
    client: str | None = None
    runbook_key: str | None = None
    runbook_title: str | None = None
    step_text: str | None = None
    inputs: tuple[tuple[str, str], ...] = ()
    note: Note | None = None
    # Why the boundaries sent it up (the first line the service wrote).
    why_asked: str = ""
    # A person's name; "boundary" or "timeout" when policy decided; None while pending.
    decided_by: str | None = None
    decision_reason: str | None = None

    @property
    def id(self) -> int:
        return self.request.id


def approval_details(
    session: Session, requests: Sequence[ApprovalRequest], currency: str
) -> list[ApprovalDetails]:
    if not requests:
        return []
    staff_ids = {r.requester_id for r in requests} | {
        r.decided_by_id for r in requests if r.decided_by_id is not None
    }
    people = {s.id: s for s in session.scalars(select(Staff).where(Staff.id.in_(staff_ids)))}
    ticket_ids = {r.ticket_id for r in requests if r.ticket_id is not None}
    tickets = (
        {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))}
        if ticket_ids
        else {}
    )
    client_ids = {t.client_id for t in tickets.values() if t.client_id is not None}
    clients = (
        {
            cid: name
            for cid, name in session.execute(
                select(Client.id, Client.name).where(Client.id.in_(client_ids))
            )
        }
        if client_ids
        else {}
    )
    runs = _runs(session, {r.run_id for r in requests if r.run_id is not None})
    notes = _notes(session, requests, runs)
    result = []
    for r in requests:
        requester = people.get(r.requester_id)
        ticket = tickets.get(r.ticket_id) if r.ticket_id is not None else None
        run, runbook, definition = runs.get(r.run_id or 0, (None, None, None))
        step = definition.steps.get(r.step_id) if definition and r.step_id else None
        labels = {i.id: i.label for i in definition.inputs} if definition else {}
        inputs = tuple(
            (labels.get(k, k), str(v)) for k, v in ((run.inputs or {}) if run else {}).items() if v
        )
        decider = people.get(r.decided_by_id) if r.decided_by_id is not None else None
        result.append(
            ApprovalDetails(
                request=r,
                cost=cost_label(r.cost, r.recurring, currency),
                requester=requester.name if requester else "someone no longer on staff",
                ticket_title=ticket.title if ticket else None,
                client_id=ticket.client_id if ticket else None,
                client=clients.get(ticket.client_id) if ticket and ticket.client_id else None,
                runbook_key=runbook.key if runbook else None,
                runbook_title=runbook.title if runbook else None,
                step_text=step.text if step else None,
                inputs=inputs,
                note=notes.get(r.id),
                why_asked=r.reason.splitlines()[0] if r.reason else "",
                decided_by=_decided_by(r, decider),
                decision_reason=_decision_reason(r, decider),
            )
        )
    return result


def _decided_by(r: ApprovalRequest, decider: Staff | None) -> str | None:
    if r.decided_by_id is not None:
        return decider.name if decider else "someone no longer on staff"
    if r.decided_by_policy:
        return "boundary" if r.status == "approved" else "timeout"
    return None


def _decision_reason(r: ApprovalRequest, decider: Staff | None) -> str | None:
    """The decider's own words (or the timeout's line). Requests decided before they were
    kept apart have them only at the end of `reason`, after '<status> by <e-mail>: ' (they
    may run over several lines); a timeout's line is last."""
    if r.status == "pending":
        return None
    if r.decision_note is not None:
        return r.decision_note or None
    if not r.reason:
        return None
    if decider is not None:
        marker = f"{r.status} by {decider.email}: "
        at = r.reason.rfind(marker)
        if at >= 0:
            return r.reason[at + len(marker) :].strip() or None
    if r.decided_by_policy and r.status == "approved":
        return None  # inside the requester's boundary: nobody gave a reason
    return r.reason.splitlines()[-1]


def _runs(
    session: Session, run_ids: set[int]
) -> dict[int, tuple[RunbookRun, Runbook, RunbookDef | None]]:
    if not run_ids:
        return {}
    rows = session.execute(
        select(RunbookRun, Runbook)
        .join(Runbook, Runbook.id == RunbookRun.runbook_id)
        .where(RunbookRun.id.in_(run_ids))
    )
    found: dict[int, tuple[RunbookRun, Runbook, RunbookDef | None]] = {}
    for run, runbook in rows:
        try:
            definition: RunbookDef | None = runbooks.definition(
                session, runbook, run.revision_number
            )
        except FranchiseError:
            # A revision that no longer parses still leaves the runbook's name to show.
            definition = None
        found[run.id] = (run, runbook, definition)
    return found


def _notes(
    session: Session,
    requests: Sequence[ApprovalRequest],
    runs: dict[int, tuple[RunbookRun, Runbook, RunbookDef | None]],
) -> dict[int, Note]:
    """Each request's note: the question of the ask that made it, otherwise the requester's
    latest note on the ticket (or answer note in the run) written before it was decided."""
    on_tickets = [r for r in requests if r.ticket_id is not None]
    ticket_ids = {r.ticket_id for r in on_tickets}
    requester_ids = {r.requester_id for r in requests}
    if not ticket_ids:
        return {}
    asks = session.execute(
        select(
            OwnerContact.ticket_id,
            OwnerContact.staff_id,
            OwnerContact.occurred_at,
            OwnerContact.question,
        ).where(
            OwnerContact.ticket_id.in_(ticket_ids),
            OwnerContact.staff_id.in_(requester_ids),
            OwnerContact.question.is_not(None),
        )
    )
    written: dict[tuple[int | None, int | None], list[Note]] = {}
    for ticket_id, staff_id, at, question in asks:
        written.setdefault((ticket_id, staff_id), []).append(Note(question or "", at, "ask"))
    events = session.execute(
        select(TicketEvent.ticket_id, TicketEvent.actor_id, TicketEvent.at, TicketEvent.note).where(
            TicketEvent.ticket_id.in_(ticket_ids),
            TicketEvent.actor_id.in_(requester_ids),
            TicketEvent.kind == "note",
        )
    )
    for ticket_id, actor_id, at, text in events:
        if text:
            written.setdefault((ticket_id, actor_id), []).append(Note(text, at, "note"))
    run_ids = {r.run_id for r in on_tickets if r.run_id is not None}
    if run_ids:
        steps = session.execute(
            select(RunStep.run_id, RunStep.actor_id, RunStep.at, RunStep.note).where(
                RunStep.run_id.in_(run_ids),
                RunStep.actor_id.in_(requester_ids),
                RunStep.note.is_not(None),
                RunStep.retracted_at.is_(None),
            )
        )
        for run_id, actor_id, at, text in steps:
            ticket_id = runs[run_id][0].ticket_id if run_id in runs else None
            if text:
                written.setdefault((ticket_id, actor_id), []).append(Note(text, at, "step"))
    found: dict[int, Note] = {}
    for r in on_tickets:
        mine = written.get((r.ticket_id, r.requester_id), [])
        asked = [n for n in mine if n.source == "ask" and abs(n.at - r.created_at) <= ASK_SLACK]
        if asked:
            # An ask without an action of its own made its question the action: no repeat.
            if asked[0].text.strip() != r.action.strip():
                found[r.id] = asked[0]
            continue
        until = r.decided_at
        earlier = [n for n in mine if n.source != "ask" and (until is None or n.at <= until)]
        if earlier:
            found[r.id] = max(earlier, key=lambda n: n.at)
    return found
