"""The escalation map in the database, and escalation decisions stored on tickets."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.errors import FranchiseError, InvalidInput, PermissionDenied, Refused
from franchise.escalation.definition import EscalationMap
from franchise.escalation.evaluate import OWN_TAG_PREFIX, EscalationDecision, evaluate
from franchise.escalation.facts import FactsCache, ticket_facts
from franchise.escalation.lint import lint_escalation
from franchise.policydocs.document import PolicyDocument
from franchise.runbooks.definition import EdgeCase
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note, change_ticket

KIND = "escalation"
FIELD = "escalation_allowed"
STARTER = Path(__file__).resolve().parent.parent / "starter" / "escalation.yaml"


DOCUMENT: PolicyDocument[EscalationMap] = PolicyDocument(
    KIND, STARTER, lambda source, file: lint_escalation(source, file), cache_size=64
)


@dataclass(frozen=True)
class MapVersion:
    map: EscalationMap
    source: str
    # 0: nothing saved yet, so the shipped starter map applies.
    revision: int


def validate_map(source: str, file: str = "<escalation>") -> EscalationMap:
    """Lint a map; any problem refuses it with every problem listed."""
    return DOCUMENT.validate(source, file)


def current_map(session: Session) -> MapVersion:
    version = DOCUMENT.current(session)
    return MapVersion(version.parsed, version.source, version.revision)


def save_map(
    session: Session,
    source: str,
    *,
    file: str = "<escalation>",
    author: Staff | None = None,
    note: str = "",
    expected_revision: int | None = None,
) -> tuple[int, bool]:
    """Lint, then store a new revision unless unchanged. Returns (revision, changed)."""
    revision, changed = DOCUMENT.save(
        session, source, file=file, author=author, note=note, expected_revision=expected_revision
    )
    return revision.number, changed


def load_starter(session: Session) -> bool:
    """Store the shipped map as revision 1 when none is stored (idempotent)."""
    return DOCUMENT.load_starter(session, note="starter map")


def check_escalation(
    session: Session,
    ticket: Ticket,
    *,
    now: datetime | None = None,
    escalation: EscalationMap | None = None,
    cache: FactsCache | None = None,
    also_text: str = "",
) -> EscalationDecision:
    """The decision for a ticket; `escalation`: the map already read in this transaction
    (a batch of alerts reads it once, not once per ticket); `cache`: lookups shared by the
    tickets of the batch; `also_text`: what a technician says about the ticket beyond its
    body (an ask's question), which the map's keywords read as well."""
    rules = escalation if escalation is not None else current_map(session).map
    facts = ticket_facts(session, ticket, now=now, cache=cache)
    if also_text:
        facts = replace(facts, body=f"{facts.body}\n{also_text}")
    return evaluate(rules, facts)


def refresh_escalation(
    session: Session,
    ticket: Ticket,
    *,
    actor: Staff | None = None,
    now: datetime | None = None,
    escalation: EscalationMap | None = None,
    cache: FactsCache | None = None,
) -> EscalationDecision:
    """Store the decision on the ticket: custom field `escalation_allowed` and an
    `escalate:<level>` tag, so queues, filters and a PSA can see it without asking.
    With a `cache` (a batch refreshing many tickets) the change is flushed with the rest
    of the batch, not at once."""
    decision = check_escalation(session, ticket, now=now, escalation=escalation, cache=cache)
    # JSON columns: assign new objects so SQLAlchemy sees the change.
    fields = dict(ticket.custom_fields or {})
    fields[FIELD] = "yes" if decision.allowed else "no"
    tags = [t for t in (ticket.tags or []) if not t.lower().startswith(OWN_TAG_PREFIX)]
    if decision.allowed and decision.to:
        tags.append(f"{OWN_TAG_PREFIX}{decision.to}")
    change_ticket(
        session,
        ticket,
        actor=actor,
        at=now,
        note=f"escalation check: {decision.rule}",
        custom_fields=fields,
        tags=tags,
    )
    if cache is None:
        session.flush()
    return decision


def escalate_ticket(
    session: Session,
    ticket: Ticket,
    *,
    to: str,
    by: Staff,
    override_reason: str | None = None,
    edge_case: int | None = None,
    now: datetime | None = None,
) -> EscalationDecision:
    """Escalate to `to`: the decided level or a lower one above the ticket's own.

    Following an edge case of the run's current step (`edge_case`, its number in the
    runbook) that says "escalate to X" is allowed up to X and recorded with the edge case.

    Lower is fine (L2 may still escalate further when the map allows it); higher than the
    map allows is refused, because that is exactly how the owner becomes the bottleneck.
    Only the owner or an admin may override a refusal, with a reason kept in the history.
    """
    esc_map = current_map(session).map
    if to not in esc_map.levels:
        raise InvalidInput(f"unknown level '{to}' (levels: {', '.join(esc_map.levels)})")
    if esc_map.rank(to) <= esc_map.rank(ticket.level):
        raise InvalidInput(f"ticket #{ticket.id} is already at {ticket.level}; pick a higher level")
    decision = check_escalation(session, ticket, now=now)
    refusal = _refusal(esc_map, decision, to)
    if edge_case is not None:
        case_key, case = _edge_case(session, ticket, edge_case)
        if case.escalate is None or esc_map.rank(to) > esc_map.rank(case.escalate):
            raise Refused(
                f"edge case {edge_case} of '{case_key}' does not escalate to {to}: {case.do}"
            )
        refusal = None
        decision = EscalationDecision(
            True, to, f"runbook:{case_key}/edge-case:{edge_case}", False, case.do
        )
        note = f"escalated to {to} following edge case {edge_case} of '{case_key}' ({case.when}): {case.do}"
    elif refusal is None:
        note = f"escalated to {to} (rule {decision.rule}): {decision.reason}"
    else:
        override = (override_reason or "").strip()
        if not override:
            raise Refused(f"escalation to {to} refused: {refusal}", errors=[decision.to_dict()])
        if not by.is_manager:
            raise PermissionDenied(
                f"only the owner or an admin may override the escalation map; {refusal}",
                errors=[decision.to_dict()],
            )
        note = f"escalated to {to} by override of {by.name}: {override}"
        # Its own event kind, so a review can list every override ("tighten the rule?").
        add_note(
            session,
            ticket,
            actor=by,
            kind="escalation_override",
            note=f"{override} (the map said: {refusal})",
        )
    change_ticket(session, ticket, actor=by, at=now, note=note, level=to, status="escalated")
    refresh_escalation(session, ticket, actor=by, now=now)
    return decision


@dataclass(frozen=True)
class EscalationOffer:
    """The one escalation a page may offer: a level the map accepts now, or (owner and
    admins only) an override to the next level up, which needs a reason. `to` is None when
    every escalation would be refused, so no button is shown that the map turns down."""

    to: str | None
    override: bool = False


def escalation_offer(
    esc_map: EscalationMap, ticket: Ticket, decision: EscalationDecision, *, can_override: bool
) -> EscalationOffer:
    if ticket.status in ("resolved", "closed"):
        return EscalationOffer(None)
    higher = [lv for lv in esc_map.levels if esc_map.rank(lv) > esc_map.rank(ticket.level)]
    accepted = [lv for lv in higher if _refusal(esc_map, decision, lv) is None]
    if accepted:
        # The highest the map allows: the level its decision names.
        return EscalationOffer(accepted[-1])
    if can_override and higher:
        return EscalationOffer(higher[0], override=True)
    return EscalationOffer(None)


def _edge_case(session: Session, ticket: Ticket, number: int) -> tuple[str, EdgeCase]:
    """The run's runbook and its edge case `number` (1-based), which must apply to the step
    the run stands at."""
    from franchise.runbooks import service as runbooks

    run = runbooks.latest_run(session, ticket)
    if run is None:
        raise InvalidInput(f"ticket #{ticket.id} has no runbook run, so it has no edge cases")
    state = runbooks.run_state(session, run)
    cases = state.runbook.edge_cases
    if not 1 <= number <= len(cases):
        raise InvalidInput(
            f"runbook '{state.runbook.key}' has {len(cases)} edge case(s), not {number}"
        )
    case = cases[number - 1]
    if not case.applies_to(state.current):
        raise Refused(
            f"edge case {number} of '{state.runbook.key}' is not for step '{state.current}'"
        )
    return state.runbook.key, case


def _refusal(esc_map: EscalationMap, decision: EscalationDecision, to: str) -> str | None:
    if not decision.allowed:
        return decision.reason
    if esc_map.rank(to) > esc_map.rank(decision.to):
        return (
            f"the map allows up to {decision.to} (rule {decision.rule}), not {to}: "
            f"{decision.reason}"
        )
    return None


def refusal_hint(exc: FranchiseError) -> str | None:
    """The runbook step to do next, when a refusal carries one (for the CLI and pages)."""
    for item in exc.errors:
        if isinstance(item, dict) and item.get("pending_step"):
            return str(item["pending_step"])
    return None
