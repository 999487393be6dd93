"""Decide what "Ask the owner" answers: a deflection, an interruption or a drill refusal.

Pure: the service gathers the facts (escalation decision, the runbook step not yet done,
the approval route, the template for the client message, the drill, who is on L2) and this
module decides. The order:

1. Emergencies are the escalation map's, not the asker's: when the ticket's decision is an
   emergency it goes to the level the map names at once, the owner included, even during
   an owner-offline drill. A `--emergency` flag the map does not back is kept on record
   (in the answer text) but changes nothing.
2. The reason's own answer: an approval inside a boundary below the owner, the template
   for a client message, the escalation map naming a level other than the owner (or "not
   yet"). When that answer is "only the owner" (no boundary below the owner covers the
   cost, or a rule sends the ticket to the owner) the ask goes to the owner.
3. Otherwise, for any reason, a runbook step not yet done answers it.
4. Nothing answers it: an interruption, or during a drill a refusal with guidance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from franchise.escalation.evaluate import EscalationDecision

OWNER = "owner"
# The client-message stage that fits a ticket's status.
STAGE_FOR_STATUS = {
    "new": "acknowledged",
    "in_progress": "update",
    "waiting_on_client": "waiting-on-client",
    "waiting_on_approval": "update",
    "escalated": "escalated",
    "ready_to_resolve": "update",
    "resolved": "resolved",
    "closed": "resolved",
}


@dataclass(frozen=True)
class PendingStep:
    """The runbook step the ticket's run waits on (or the start step before any run)."""

    runbook: str
    step: str
    text: str
    where: str | None = None

    def describe(self) -> str:
        where = f" ({self.where})" if self.where else ""
        return f"Do step '{self.step}' of runbook '{self.runbook}': {self.text}{where}"


@dataclass(frozen=True)
class ApprovalRoute:
    """What the approval boundaries say about the action in the ask."""

    action: str
    status: str  # approved | pending
    approver_level: str
    reason: str


@dataclass(frozen=True)
class TemplateHint:
    key: str
    stage: str
    subject: str | None
    # Why the message could not be rendered (e.g. the client has no e-mail contact).
    problem: str | None = None


@dataclass(frozen=True)
class Situation:
    ticket_id: int
    reason: str
    asker_level: str
    emergency_claimed: bool
    escalation: EscalationDecision
    pending: PendingStep | None = None
    approval: ApprovalRoute | None = None
    template: TemplateHint | None = None
    drill_id: int | None = None
    drill_until: datetime | None = None
    # "Name <email>" of active L2 staff other than the asker.
    l2_on_duty: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    outcome: str  # deflection | interruption | refused
    # runbook_step | approval_approved | approval_routed | template | escalation_level |
    # escalation_pending | escalation_refused | owner | emergency | drill_refused
    kind: str
    text: str
    emergency: bool = False
    guidance: tuple[str, ...] = ()

    @property
    def full_text(self) -> str:
        return "\n".join((self.text, *(f"- {g}" for g in self.guidance)))


def choose_answer(s: Situation) -> Answer:
    decision = s.escalation
    if decision.allowed and decision.emergency:
        return _emergency(s)
    answer, owner_needed = _reason_answer(s)
    if answer is not None:
        return _with_claim(s, answer)
    if not owner_needed and s.pending is not None:
        return _with_claim(s, Answer("deflection", "runbook_step", s.pending.describe()))
    if s.drill_id is not None:
        return _with_claim(s, _drill_refusal(s))
    return _with_claim(s, Answer("interruption", "owner", f"Sent to the owner: {_why_owner(s)}"))


def _emergency(s: Situation) -> Answer:
    d = s.escalation
    if d.to == OWNER:
        text = (
            f"Emergency under the escalation map (rule {d.rule}): sent to the owner now. {d.reason}"
        )
        return Answer("interruption", "emergency", text, emergency=True)
    text = (
        f"Emergency under the escalation map (rule {d.rule}) for {d.to}, not the owner: "
        f"{d.reason} {_ask_level(s, d.to or 'L2')}"
    )
    return Answer("deflection", "escalation_level", text, emergency=True)


def _reason_answer(s: Situation) -> tuple[Answer | None, bool]:
    """(the reason's own answer, whether only the owner can give it)."""
    if s.approval is not None:
        return _approval_answer(s, s.approval)
    if s.reason == "customer_communication" and s.template is not None:
        return _template_answer(s.ticket_id, s.template), False
    if s.reason == "escalation":
        return _escalation_answer(s)
    return None, False


def _approval_answer(s: Situation, route: ApprovalRoute) -> tuple[Answer | None, bool]:
    if route.status == "approved":
        text = (
            f"Approved by your boundary: {route.action} ({route.reason}). Go ahead; "
            "the approval is logged on the ticket."
        )
        return Answer("deflection", "approval_approved", text), False
    if route.approver_level != OWNER:
        text = (
            f"The {route.approver_level} boundary covers it: {route.action} "
            f"({route.reason}). {_ask_level(s, route.approver_level)} "
            f"The request waits on {route.approver_level}."
        )
        return Answer("deflection", "approval_routed", text), False
    return None, True


def _template_answer(ticket_id: int, hint: TemplateHint) -> Answer:
    command = f"franchise message send {hint.key} --ticket {ticket_id} --by YOU"
    if hint.subject is not None:
        shown = f'subject "{hint.subject}"'
    else:
        shown = f"it could not be rendered yet: {hint.problem}"
    text = (
        f"Use the client template '{hint.key}' (stage {hint.stage}); {shown}. Send it from "
        f"the ticket's Client message panel, or with `{command}`."
    )
    return Answer("deflection", "template", text)


def _escalation_answer(s: Situation) -> tuple[Answer | None, bool]:
    d = s.escalation
    if d.allowed and d.to == OWNER:
        return None, True
    if d.allowed and d.to:
        text = (
            f"The escalation map gives this to {d.to}, not the owner (rule {d.rule}): "
            f"{d.reason} {_ask_level(s, d.to)}"
        )
        return Answer("deflection", "escalation_level", text), False
    if d.pending_step and s.pending is not None:
        text = (
            f"Not yet: the escalation map says (rule {d.rule}): {d.reason} {s.pending.describe()}"
        )
        return Answer("deflection", "escalation_pending", text), False
    text = f"The escalation map refuses escalation (rule {d.rule}): {d.reason}"
    return Answer("deflection", "escalation_refused", text), False


def _ask_level(s: Situation, level: str) -> str:
    if level == s.asker_level:
        return "That is your level: you decide."
    if level == "L2" and s.l2_on_duty:
        return f"Ask {s.l2_on_duty[0]}."
    return f"Ask {level}."


def _why_owner(s: Situation) -> str:
    d = s.escalation
    if s.reason == "approval" and s.approval is not None:
        return (
            f"no boundary below the owner covers {s.approval.action} ({s.approval.reason}); "
            "the approval request waits on the owner."
        )
    if s.reason == "escalation" and d.allowed and d.to == OWNER:
        return f"the escalation map sends this ticket to the owner (rule {d.rule}): {d.reason}"
    return (
        "nothing in the system answers it (no runbook step pending, no rule naming someone "
        "else); review it afterwards so the next one is answered."
    )


def _drill_refusal(s: Situation) -> Answer:
    until = f" until {s.drill_until.strftime('%a %d %b %Y %H:%M UTC')}" if s.drill_until else ""
    text = (
        f"Refused: the owner is offline for drill #{s.drill_id}{until}, and the escalation "
        f"map does not make this an emergency (rule {s.escalation.rule}). Use instead:"
    )
    guidance: list[str] = []
    if s.pending is not None:
        guidance.append(f"Runbook: {s.pending.describe()}")
    if s.l2_on_duty:
        guidance.append(f"L2 on duty: {', '.join(s.l2_on_duty)}.")
    else:
        guidance.append("L2 on duty: nobody active at L2; take it to the service manager.")
    if s.approval is not None:
        guidance.append(
            f"Approval route: {s.approval.action} needs the owner ({s.approval.reason}); "
            "wait for the drill to end, or find a smaller action an L2 boundary covers "
            "(`franchise approve`)."
        )
    else:
        guidance.append(
            "Approval route: `franchise approve TICKET --action ... --by YOU` approves at "
            "once inside your boundary or sends it to the level whose boundary covers it."
        )
    if s.emergency_claimed:
        guidance.append(
            "If this really is an emergency, make the ticket match an emergency rule of the "
            "escalation map (`franchise escalation show`), e.g. its tag, and ask again."
        )
    return Answer("refused", "drill_refused", text, guidance=tuple(guidance))


def _with_claim(s: Situation, answer: Answer) -> Answer:
    """Keep an emergency flag the map does not back on record; it changes nothing."""
    if not s.emergency_claimed or answer.emergency:
        return answer
    note = (
        f" (Asked as an emergency; the escalation map does not make it one: "
        f"rule {s.escalation.rule}.)"
    )
    return Answer(answer.outcome, answer.kind, answer.text + note, False, answer.guidance)


def owner_message(
    s: Situation,
    *,
    ticket_title: str,
    asker: str,
    question: str,
    answer: Answer,
) -> tuple[str, str]:
    """Title and body of the owner's notification."""
    prefix = "EMERGENCY: " if answer.emergency else ""
    title = f"{prefix}{asker} asks about ticket #{s.ticket_id}"
    body = "\n".join(
        (
            f"Ticket: #{s.ticket_id} {ticket_title}",
            f"Asked by: {asker}",
            f"Reason: {s.reason.replace('_', ' ')}",
            f"Question: {question}",
            f"Escalation map: rule {s.escalation.rule}: {s.escalation.reason}",
            f"Why it reached you: {answer.text}",
        )
    )
    return title, body
