"""Approval requests in the database: ask, decide, time out; and the boundaries document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.approvals import policy
from franchise.approvals.boundaries import Boundaries, level_rank
from franchise.approvals.models import DECISIONS, ApprovalRequest
from franchise.approvals.parse import parse_boundaries
from franchise.approvals.policy import Ask, cost_text, covers, make_ask, next_level
from franchise.db import utcnow
from franchise.drills.contact_log import log_contact
from franchise.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Refused
from franchise.orgsettings.service import get_config
from franchise.policydocs.document import PolicyDocument
from franchise.policydocs.models import PolicyRevision
from franchise.runbooks import service as runbooks
from franchise.runbooks.definition import Step
from franchise.runbooks.models import Runbook, RunbookRun
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note, change_ticket

STARTER_BOUNDARIES = Path(__file__).resolve().parent.parent / "starter" / "boundaries.yaml"
KIND = "boundaries"
CLOSED_TICKET = ("resolved", "closed")
MAX_REASON = 2000


@dataclass(frozen=True)
class Expiry:
    request: ApprovalRequest
    outcome: str  # escalated | denied


# --- the boundaries document ------------------------------------------------------------


DOCUMENT: PolicyDocument[Boundaries] = PolicyDocument(
    KIND,
    STARTER_BOUNDARIES,
    lambda source, file: parse_boundaries(source, file),
    lint_stored=lambda source, _number: parse_boundaries(source, "<stored>", strict=False),
)


def validate_boundaries(source: str, file: str = "<boundaries>") -> Boundaries:
    """Lint a boundaries document; any problem refuses it with every problem listed."""
    return DOCUMENT.validate(source, file)


def boundaries_source(session: Session) -> tuple[str, int]:
    """The current document and its revision; revision 0 is the shipped starter file."""
    number, source = DOCUMENT.current_source(session)
    return source, number


def current_boundaries(session: Session) -> tuple[Boundaries, int]:
    version = DOCUMENT.current(session)
    return version.parsed, version.revision


def save_boundaries(
    session: Session,
    source: str,
    *,
    author: Staff | None = None,
    note: str = "",
    expected_revision: int | None = None,
    file: str = "<boundaries>",
) -> tuple[PolicyRevision, bool]:
    """Lint, then store a new revision unless unchanged. Returns (revision, changed)."""
    if author is not None and not author.is_manager:
        raise PermissionDenied("only the owner or an admin may change approval boundaries")
    return DOCUMENT.save(
        session, source, file=file, author=author, note=note, expected_revision=expected_revision
    )


def load_starter_boundaries(session: Session) -> bool:
    """Store the shipped boundaries when none are stored yet; True when it did."""
    return DOCUMENT.load_starter(session)


def unknown_people(session: Session, boundaries: Boundaries) -> list[str]:
    """E-mails in `people` that are no active staff member (a warning, not an error)."""
    emails = list(boundaries.people)
    if not emails:
        return []
    known = set(session.scalars(select(Staff.email).where(Staff.email.in_(emails), Staff.active)))
    return [e for e in emails if e not in known]


# --- requests ---------------------------------------------------------------------------


def request_approval(
    session: Session,
    *,
    ticket: Ticket | None,
    action: str,
    cost: Decimal | int | float | str,
    minutes: int,
    impact: str,
    kind: str | None = None,
    recurring: str | None = "once",
    requester: Staff,
    run_id: int | None = None,
    step_id: str | None = None,
    now: datetime | None = None,
    owner_contact: bool = True,
) -> ApprovalRequest:
    """Record a request and decide it at once: approved inside the requester's boundary,
    otherwise pending at the level that may decide it (the ticket then waits on it).

    One left for the owner to decide is an owner interruption and is logged as one (the
    KPI counts it), unless `owner_contact` is False: an ask to the owner that became this
    request was logged already."""
    when = now or utcnow()
    if not requester.active:
        raise PermissionDenied(f"{requester.email} is not an active staff member")
    if ticket is not None and ticket.status in CLOSED_TICKET:
        raise Refused(f"ticket #{ticket.id} is {ticket.status}; reopen it before asking")
    if ticket is not None and run_id is None:
        # Asked on a ticket whose run stands at an action step: the request is that step's,
        # so the run cannot pass the step until it is decided.
        run_id, step_id = runbooks.action_step_of(session, ticket)
    ask = make_ask(
        action=action,
        cost=cost,
        minutes=minutes,
        impact=impact,
        level=requester.level,
        email=requester.email,
        kind=kind,
        recurring=recurring,
    )
    boundaries, _ = current_boundaries(session)
    decision = policy.decide_by_boundaries(boundaries, ask)
    approved = decision.status == "approved"
    request = ApprovalRequest(
        ticket_id=ticket.id if ticket else None,
        run_id=run_id,
        step_id=step_id,
        action=ask.action,
        # The kind that applied, also when the action text implied it: whoever decides
        # later is checked against the same kind rule.
        action_kind=decision.kind,
        cost=ask.cost,
        recurring=ask.recurring,
        minutes=ask.minutes,
        impact=ask.impact,
        requester_id=requester.id,
        status=decision.status,
        approver_level=decision.approver_level,
        decided_by_policy=decision.by_policy,
        reason=decision.reason,
        created_at=when,
        decided_at=when if approved else None,
        timeout_at=None if approved else when + timedelta(minutes=boundaries.timeout.minutes),
    )
    session.add(request)
    session.flush()
    if ticket is not None:
        cost = f"cost {cost_text(ask)}; " if ask.cost else ""
        if approved:
            note = (
                f"approval #{request.id} approved by boundary: {ask.action} "
                f"({cost}{decision.reason})"
            )
            _log(session, ticket, requester, note, None, when)
        else:
            note = (
                f"approval #{request.id} waiting on {decision.approver_level}: {ask.action} "
                f"({cost}{decision.reason})"
            )
            _log(session, ticket, requester, note, "waiting_on_approval", when)
    if not approved:
        # Imported here: the notices ask this module who may decide.
        from franchise.approvals.notices import approval_pending

        approval_pending(session, request)
        if owner_contact and request.approver_level == "owner":
            _log_owner_contact(session, request, ticket, requester, when)
    return request


def _log_owner_contact(
    session: Session,
    request: ApprovalRequest,
    ticket: Ticket | None,
    requester: Staff | None,
    when: datetime,
) -> None:
    """A decision only the owner can make reached the owner: an interruption, reason
    approval, through the app (drills count it the same way)."""
    log_contact(
        session,
        occurred_at=when,
        channel="in_app",
        reason="approval",
        config=get_config(session),
        ticket=ticket,
        by=requester,
    )


# Built once: statement construction costs more than this indexed lookup, which escalation
# facts make for every ticket with a run.
_LATEST_FOR_STEP = (
    select(ApprovalRequest)
    .where(ApprovalRequest.run_id == bindparam("run"), ApprovalRequest.step_id == bindparam("step"))
    .order_by(ApprovalRequest.id.desc())
    .limit(1)
)


def latest_step_approval(session: Session, run_id: int, step_id: str) -> ApprovalRequest | None:
    """The latest approval asked for a run's step (pending, decided or expired), if any."""
    return session.scalars(_LATEST_FOR_STEP, {"run": run_id, "step": step_id}).first()


def get_request(session: Session, request_id: int) -> ApprovalRequest:
    request = session.get(ApprovalRequest, request_id)
    if request is None:
        raise NotFound(f"no approval request #{request_id}")
    return request


def list_requests(
    session: Session,
    *,
    status: str | None = None,
    ticket: Ticket | None = None,
    limit: int = 200,
) -> list[ApprovalRequest]:
    if status is not None and status not in DECISIONS:
        raise InvalidInput(f"unknown status '{status}' (use {', '.join(DECISIONS)})")
    query = select(ApprovalRequest)
    if status:
        query = query.where(ApprovalRequest.status == status)
    if ticket is not None:
        query = query.where(ApprovalRequest.ticket_id == ticket.id)
    query = query.order_by(ApprovalRequest.created_at.desc(), ApprovalRequest.id.desc())
    return list(session.scalars(query.limit(limit)))


def decide(
    session: Session,
    request: ApprovalRequest,
    *,
    by: Staff,
    approve: bool,
    reason: str,
    now: datetime | None = None,
) -> ApprovalRequest:
    """Approve or deny a pending request. Only someone at or above its level whose own
    boundary covers it may decide (owner and admin always); a requester never approves
    their own request, though they may withdraw it (deny)."""
    when = now or utcnow()
    why = reason.strip()
    if not why:
        raise InvalidInput("give a reason for the decision (--reason)")
    if len(why) > MAX_REASON:
        raise InvalidInput(f"the reason is over {MAX_REASON} characters; shorten it")
    # Locks the row on PostgreSQL, so two people deciding at once cannot both win.
    session.refresh(request, with_for_update=True)
    if request.status != "pending":
        raise Conflict(f"approval request #{request.id} is already {request.status}")
    _check_may_decide(session, request, by, approve)
    request.status = "approved" if approve else "denied"
    request.decided_by_id = by.id
    request.decided_by_policy = False
    request.decided_at = when
    request.timeout_at = None
    request.reason = f"{request.reason}\n{request.status} by {by.email}: {why}"
    request.decision_note = why
    session.flush()
    _after_decision(
        session, request, by, f"approval #{request.id} {request.status} by {by.email}: {why}", when
    )
    return request


def expire_pending(session: Session, now: datetime | None = None) -> list[Expiry]:
    """Pending requests past their timeout go up one level (with a new timeout) or are
    denied, as the boundaries document says; at the owner a timeout always denies."""
    when = now or utcnow()
    boundaries, _ = current_boundaries(session)
    rule = boundaries.timeout
    due = session.scalars(
        select(ApprovalRequest)
        .where(ApprovalRequest.status == "pending", ApprovalRequest.timeout_at <= when)
        .order_by(ApprovalRequest.id)
        .with_for_update(skip_locked=True)
    )
    results = []
    for request in list(due):
        level = request.approver_level or "owner"
        target = next_level(level) if rule.then == "escalate" else None
        if target is not None:
            line = f"no decision at {level} within {rule.minutes} min; escalated to {target}"
            request.approver_level = target
            request.timeout_at = when + timedelta(minutes=rule.minutes)
            request.reason = f"{request.reason}\n{line}"
            _log_on_ticket(session, request, None, f"approval #{request.id}: {line}", None, when)
            if target == "owner":
                ticket = session.get(Ticket, request.ticket_id) if request.ticket_id else None
                requester = session.get(Staff, request.requester_id)
                _log_owner_contact(session, request, ticket, requester, when)
            results.append(Expiry(request, "escalated"))
            continue
        because = "nobody above the owner" if rule.then == "escalate" else "timeout rule is deny"
        line = f"no decision at {level} within {rule.minutes} min; denied ({because})"
        request.status = "denied"
        request.decided_by_policy = True
        request.decided_at = when
        request.timeout_at = None
        request.reason = f"{request.reason}\n{line}"
        request.decision_note = line
        session.flush()
        _after_decision(session, request, None, f"approval #{request.id}: {line}", when)
        results.append(Expiry(request, "denied"))
    session.flush()
    return results


def request_for_action_step(
    session: Session,
    *,
    run: RunbookRun,
    step: Step,
    actor: Staff | None,
    now: datetime | None = None,
) -> ApprovalRequest | None:
    """Ask for approval of a runbook action step from its estimate. A request already
    pending or approved for this run and step is returned instead of asking twice."""
    if step.kind != "action" or step.estimate is None:
        return None
    requester = actor
    if requester is None and run.started_by_id is not None:
        requester = session.get(Staff, run.started_by_id)
    if requester is None:
        return None
    existing = session.scalar(
        select(ApprovalRequest)
        .where(
            ApprovalRequest.run_id == run.id,
            ApprovalRequest.step_id == step.id,
            ApprovalRequest.status.in_(("approved", "pending")),
        )
        .order_by(ApprovalRequest.id.desc())
        .limit(1)
    )
    if existing is not None:
        return existing
    runbook = session.get(Runbook, run.runbook_id)
    ticket = session.get(Ticket, run.ticket_id) if run.ticket_id is not None else None
    text = step.text if len(step.text) <= 300 else step.text[:297] + "..."
    key = runbook.key if runbook else "runbook"
    estimate = step.estimate
    return request_approval(
        session,
        ticket=ticket,
        action=f"{key} step {step.id}: {text}",
        cost=Decimal(str(estimate.cost)),
        minutes=estimate.minutes,
        impact=estimate.impact,
        kind=estimate.kind,
        # Runbook estimates gain `recurring` in format v2; older definitions pay once.
        recurring=getattr(estimate, "recurring", "once"),
        requester=requester,
        run_id=run.id,
        step_id=step.id,
        now=now,
    )


def ask_of(session: Session, request: ApprovalRequest) -> Ask:
    requester = session.get(Staff, request.requester_id)
    return Ask(
        action=request.action,
        cost=Decimal(request.cost),
        minutes=request.minutes,
        impact=request.impact,
        level=requester.level if requester else "L1",
        email=requester.email if requester else "",
        kind=request.action_kind,
        recurring=request.recurring,
    )


def may_decide(session: Session, request: ApprovalRequest, by: Staff) -> bool:
    """Whether `by` may approve the request (the inbox shows only those)."""
    try:
        _check_may_decide(session, request, by, approve=True)
    except PermissionDenied:
        return False
    return True


def _check_may_decide(session: Session, request: ApprovalRequest, by: Staff, approve: bool) -> None:
    if not by.active:
        raise PermissionDenied(f"{by.email} is not an active staff member")
    if by.id == request.requester_id:
        if approve:
            raise PermissionDenied(
                f"{by.email} asked for approval #{request.id}; a requester never approves "
                "their own request"
            )
        return  # withdrawing your own request is always allowed
    if by.is_manager:
        return
    level = request.approver_level or "owner"
    if level_rank(by.level) < level_rank(level):
        raise PermissionDenied(
            f"approval #{request.id} waits on {level}; {by.email} is {by.level} and may not decide it"
        )
    boundaries, _ = current_boundaries(session)
    blockers = covers(boundaries, by.level, by.email, ask_of(session, request))
    if blockers:
        raise PermissionDenied(
            f"approval #{request.id} is outside {by.email}'s boundary: {'; '.join(blockers)}"
        )


def _after_decision(
    session: Session, request: ApprovalRequest, actor: Staff | None, note: str, when: datetime
) -> None:
    """Log the decision on the ticket; it is back in progress once nothing else waits."""
    if request.ticket_id is None:
        return
    ticket = session.get(Ticket, request.ticket_id)
    if ticket is None:
        return
    still_pending = session.scalar(
        select(func.count())
        .select_from(ApprovalRequest)
        .where(ApprovalRequest.ticket_id == ticket.id, ApprovalRequest.status == "pending")
    )
    status = "in_progress" if ticket.status == "waiting_on_approval" and not still_pending else None
    _log(session, ticket, actor, note, status, when)


def _log_on_ticket(
    session: Session,
    request: ApprovalRequest,
    actor: Staff | None,
    note: str,
    status: str | None,
    when: datetime,
) -> None:
    ticket = session.get(Ticket, request.ticket_id) if request.ticket_id is not None else None
    if ticket is not None:
        _log(session, ticket, actor, note, status, when)


def _log(
    session: Session,
    ticket: Ticket,
    actor: Staff | None,
    note: str,
    status: str | None,
    when: datetime,
) -> None:
    """One history event per approval step: the status change when there is one, else a note."""
    events = (
        change_ticket(session, ticket, actor=actor, note=note, at=when, status=status)
        if status
        else []
    )
    if not events:
        add_note(session, ticket, actor=actor, kind="approval", note=note)
