"""Ask the owner: gather what the system knows, choose the answer (answer.py), record and notify.

Every ask is recorded as an owner contact (channel in_app by default): a deflection with
the answer given, an interruption (the owner's notification is queued in the outbox and
sent through Apprise after the commit; its outcome is written on the contact and the
ticket, a failure is never fatal), or a refusal during a drill.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.approvals import policy
from franchise.approvals.service import current_boundaries, request_approval
from franchise.ask.answer import (
    STAGE_FOR_STATUS,
    Answer,
    ApprovalRoute,
    PendingStep,
    Situation,
    TemplateHint,
    choose_answer,
    owner_message,
)
from franchise.contacts.models import CHANNELS, REASONS
from franchise.contacts.service import check_choice
from franchise.db import Database, utcnow
from franchise.drills.contact_log import log_contact
from franchise.drills.windows import drill_windows_for
from franchise.errors import FranchiseError, InvalidInput, PermissionDenied
from franchise.escalation.facts import covering_runbook
from franchise.escalation.service import check_escalation
from franchise.messages.service import choose_template, render_for_ticket
from franchise.notify import outbound
from franchise.notify import service as notify_service
from franchise.orgsettings.service import get_config
from franchise.outbox import service as outbox
from franchise.people.notices import ask_reached_owner
from franchise.runbooks import service as runbooks
from franchise.runbooks.models import Runbook
from franchise.settings import Settings
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note, change_ticket

MAX_QUESTION = 4000
APPRISE = "owner notification URLs"
CHANNEL_NAMES = {"email": "e-mail", "teams": "Teams", "slack": "Slack"}


@dataclass(frozen=True)
class ActionEstimate:
    """An action the asker wants approved, as `franchise approve` takes it."""

    action: str | None = None
    cost: Decimal | int | float | str = 0
    minutes: int = 0
    impact: str = "none"
    kind: str | None = None
    recurring: str = "once"


@dataclass
class AskResult:
    answer: Answer
    contact_id: int
    ticket_id: int
    reason: str
    emergency_claimed: bool
    drill_id: int | None
    escalation: dict[str, Any]
    approval_id: int | None = None
    approval_status: str | None = None
    template: str | None = None
    # The owner's notification in the outbox, and (after the commit) how it went.
    notification_id: int | None = None
    notification: outbox.Outcome | None = None
    # The owner's own channels (e-mail, Teams, Slack): (channel, outbox item), and outcomes.
    owner_channels: list[tuple[str, int]] = field(default_factory=list)
    channel_outcomes: dict[int, outbox.Outcome | None] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        return self.answer.outcome

    def to_dict(self) -> dict[str, Any]:
        return {
            # The published shape says "deflected"; the contact row keeps the KPI's "deflection".
            "outcome": "deflected" if self.answer.outcome == "deflection" else self.answer.outcome,
            "kind": self.answer.kind,
            "answer": self.answer.text,
            "guidance": list(self.answer.guidance),
            "contact_id": self.contact_id,
            "ticket_id": self.ticket_id,
            "reason": self.reason,
            "emergency": self.answer.emergency,
            "emergency_claimed": self.emergency_claimed,
            "drill_id": self.drill_id,
            "escalation": self.escalation,
            "approval_id": self.approval_id,
            "approval_status": self.approval_status,
            "template": self.template,
            "notification": self._notification_dict(),
            "delivered": self.delivered,
            "delivery": self.delivery_text(),
        }

    @property
    def delivered(self) -> list[str]:
        """The channels that carried the owner's notification, as far as is known now."""
        if self.answer.outcome != "interruption":
            return []
        found = []
        if self.notification is not None and self.notification.state == "delivered":
            found.append(APPRISE)
        for name, item_id in self.owner_channels:
            outcome = self.channel_outcomes.get(item_id)
            if outcome is not None and outcome.state == "delivered" and name not in found:
                found.append(name)
        return found

    def delivery_text(self) -> str | None:
        """How the owner heard of it, in words a technician understands; None when the owner
        was not meant to hear (answered by the system, or refused in a drill)."""
        if self.answer.outcome != "interruption":
            return None
        if self.delivered:
            return f"The owner was notified by {', '.join(self.delivered)}."
        apprise_configured = not (
            self.notification is not None
            and self.notification.error is not None
            and notify_service.NOT_SET_UP in self.notification.error
        )
        if not self.owner_channels and not apprise_configured:
            return (
                "No notification channel is configured, so the owner sees this only when "
                "they open Franchise (the Dashboard and My notifications). Phone the owner if "
                "it cannot wait, and ask an admin to set up owner notifications (Settings "
                "page) or the owner's e-mail, Teams or Slack (My notifications)."
            )
        errors = [o.error for o in self.channel_outcomes.values() if o is not None and o.error]
        if self.notification is not None and self.notification.error:
            errors.insert(0, self.notification.error)
        if not errors:
            return "The owner's notification is queued and not delivered yet."
        return (
            "The owner's notification could not be delivered, so the owner may not know: "
            f"{'; '.join(errors)}. Phone the owner."
        )

    def _notification_dict(self) -> dict[str, Any] | None:
        if self.notification_id is None:
            return None
        state = self.notification.state if self.notification else "pending"
        return {
            "id": self.notification_id,
            "state": state,
            "sent": state == "delivered",
            "error": self.notification.error if self.notification else None,
        }

    def settle(self, db: Database) -> AskResult:
        """After the commit: read how the owner's notification went."""
        with db.unit_of_work() as session:
            return self.settle_in(session)

    def settle_in(self, session: Session) -> AskResult:
        """`settle` in a unit of work the caller has open."""
        if self.notification_id is not None:
            self.notification = outbox.outcome_in(session, self.notification_id)
        for _name, item_id in self.owner_channels:
            self.channel_outcomes[item_id] = outbox.outcome_in(session, item_id)
        return self


def ask_owner(
    session: Session,
    *,
    ticket: Ticket,
    by: Staff,
    reason: str,
    question: str,
    emergency: bool = False,
    channel: str = "in_app",
    now: datetime | None = None,
    settings: Settings,
    estimate: ActionEstimate | None = None,
) -> AskResult:
    """Answer from the system where it can; otherwise reach the owner (or, in a drill, refuse)."""
    check_choice(reason, REASONS, "reason")
    check_choice(channel, CHANNELS, "channel")
    text = question.strip()
    if not text:
        raise InvalidInput("write the question for the owner (--question)")
    if len(text) > MAX_QUESTION:
        raise InvalidInput(f"the question is over {MAX_QUESTION} characters; shorten it")
    if not by.active:
        raise PermissionDenied(f"{by.email} is not an active staff member")
    if by.level == "owner":
        raise InvalidInput(f"{by.name} is at the owner level; the owner does not ask the owner")
    when = now or utcnow()
    if when.tzinfo is None:
        raise InvalidInput("the time of the ask needs a time zone")
    situation = _situation(session, ticket, by, reason, text, emergency, when, estimate)
    answer = choose_answer(situation)
    result = AskResult(
        answer=answer,
        contact_id=0,
        ticket_id=ticket.id,
        reason=reason,
        emergency_claimed=emergency,
        drill_id=situation.drill_id,
        escalation=situation.escalation.to_dict(),
        template=situation.template.key if situation.template else None,
    )
    # An approval route is only worked out from an estimate.
    if situation.approval is not None and estimate is not None and answer.outcome != "refused":
        _record_approval(session, ticket, by, estimate, situation.approval, result, when)
    contact = log_contact(
        session,
        occurred_at=when,
        channel=channel,
        reason=reason,
        config=get_config(session),
        ticket=ticket,
        by=by,
        emergency=answer.emergency,
        outcome=answer.outcome,
        question=text,
        answer=answer.full_text,
    )
    result.contact_id = contact.id
    result.drill_id = contact.drill_id
    if answer.emergency and ticket.priority != "critical":
        # An emergency is never left at the priority it was filed with.
        change_ticket(
            session,
            ticket,
            actor=by,
            at=when,
            note=f"emergency ask (contact #{contact.id})",
            priority="critical",
        )
    if answer.outcome == "interruption":
        title, body = owner_message(
            situation,
            ticket_title=ticket.title,
            asker=f"{by.name} ({by.level})",
            question=text,
            answer=answer,
        )
        item = outbox.enqueue(
            session,
            outbound.KIND,
            {
                "title": title,
                "body": body,
                "emergency": answer.emergency,
                "contact_id": contact.id,
                "actor_id": by.id,
            },
            ticket_id=ticket.id,
            settings=settings,
        )
        result.notification_id = item.id
        queued = ask_reached_owner(
            session, contact, ticket=ticket, by=by, title=title, body=body, settings=settings
        )
        result.owner_channels = [(CHANNEL_NAMES[q.via], q.item_id) for q in queued]
    add_note(
        session,
        ticket,
        actor=by,
        kind="owner_ask",
        note=f"asked the owner ({reason}): {answer.outcome}, {answer.kind} (contact #{contact.id})",
    )
    session.flush()
    return result


def _situation(
    session: Session,
    ticket: Ticket,
    by: Staff,
    reason: str,
    question: str,
    emergency: bool,
    when: datetime,
    estimate: ActionEstimate | None,
) -> Situation:
    windows = [w for w in drill_windows_for(session, when) if w.covers(when)]
    drill = windows[0] if windows else None
    return Situation(
        ticket_id=ticket.id,
        reason=reason,
        asker_level=by.level,
        emergency_claimed=emergency,
        # The question may say what the ticket does not yet ("ransom note found"): an
        # emergency rule must see it, or a live incident is answered with a runbook step.
        escalation=check_escalation(session, ticket, now=when, also_text=question),
        pending=pending_step(session, ticket),
        approval=(
            _approval_route(session, by, estimate, question)
            if estimate is not None and (reason == "approval" or _has_estimate(estimate))
            else None
        ),
        template=_template_hint(session, ticket, by)
        if reason == "customer_communication"
        else None,
        drill_id=drill.id if drill else None,
        drill_until=drill.until if drill else None,
        l2_on_duty=l2_on_duty(session, exclude=by),
    )


def pending_step(session: Session, ticket: Ticket) -> PendingStep | None:
    """The step the ticket's runbook run waits on; the start step when no run began yet. A
    run of a runbook detached or replaced since waits on nothing."""
    run = runbooks.current_run(session, ticket)
    if run is not None:
        state = runbooks.run_state(session, run)
        if state.finished:
            return None
        step = state.step
        return PendingStep(state.runbook.key, step.id, step.text, step.where)
    row: Runbook | None = covering_runbook(session, ticket)
    if row is None:
        return None
    parsed = runbooks.definition(session, row)
    step = parsed.steps[parsed.start]
    return PendingStep(parsed.key, step.id, step.text, step.where)


def l2_on_duty(session: Session, *, exclude: Staff | None = None) -> tuple[str, ...]:
    query = select(Staff).where(Staff.level == "L2", Staff.active).order_by(Staff.name, Staff.id)
    return tuple(
        f"{s.name} <{s.email}>"
        for s in session.scalars(query)
        if exclude is None or s.id != exclude.id
    )


def _has_estimate(estimate: ActionEstimate) -> bool:
    """An ask naming an action, a cost or an impact is an approval question, whatever reason
    was picked: every level's boundary is checked before the owner hears of it."""
    return bool(estimate.action) or float(estimate.cost or 0) > 0 or estimate.impact != "none"


def _approval_route(
    session: Session, by: Staff, estimate: ActionEstimate, question: str
) -> ApprovalRoute:
    ask = policy.make_ask(
        action=estimate.action or question,
        cost=estimate.cost,
        minutes=estimate.minutes,
        impact=estimate.impact,
        level=by.level,
        email=by.email,
        kind=estimate.kind,
        recurring=estimate.recurring,
    )
    boundaries, _ = current_boundaries(session)
    decision = policy.decide_by_boundaries(boundaries, ask)
    return ApprovalRoute(ask.action, decision.status, decision.approver_level, decision.reason)


def _record_approval(
    session: Session,
    ticket: Ticket,
    by: Staff,
    estimate: ActionEstimate,
    route: ApprovalRoute,
    result: AskResult,
    when: datetime,
) -> None:
    """The ask becomes an approval request: approved by boundary, or waiting on its level."""
    request = request_approval(
        session,
        ticket=ticket,
        action=route.action,
        cost=estimate.cost,
        minutes=estimate.minutes,
        impact=estimate.impact,
        kind=estimate.kind,
        recurring=estimate.recurring,
        requester=by,
        now=when,
        owner_contact=False,  # this ask is the contact, logged with its question
    )
    result.approval_id, result.approval_status = request.id, request.status


def _template_hint(session: Session, ticket: Ticket, by: Staff) -> TemplateHint | None:
    stage = STAGE_FOR_STATUS.get(ticket.status, "update")
    try:
        template = choose_template(session, ticket, stage)
    except FranchiseError:
        return None
    try:
        rendered = render_for_ticket(session, ticket, template.key, technician=by)
    except FranchiseError as exc:
        return TemplateHint(template.key, stage, None, exc.message)
    return TemplateHint(template.key, stage, rendered.subject)
