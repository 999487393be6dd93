"""Ticket lifecycle: status, assignment, the definition-of-done checklist, resolving and
reopening."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.db import utcnow
from franchise.errors import InvalidInput, NotFound, PermissionDenied, Refused
from franchise.runbooks import service as runbooks
from franchise.runbooks.models import Runbook
from franchise.tickets.models import Ticket
from franchise.tickets.service import CLOSED, add_note, change_ticket

DONE_FIELD = "done_checked"
# Who may resolve with the done list unticked (the reason is recorded).
OVERRIDE_LEVELS = ("L2", "owner")
MAX_REASON = 5000


@dataclass(frozen=True)
class DoneList:
    runbook: str | None
    items: tuple[str, ...]
    checked: tuple[str, ...]

    @property
    def missing(self) -> list[str]:
        return [item for item in self.items if item not in self.checked]

    @property
    def complete(self) -> bool:
        return not self.missing

    def to_dict(self) -> dict[str, object]:
        return {
            "runbook": self.runbook,
            "items": [{"item": i, "checked": i in self.checked} for i in self.items],
            "complete": self.complete,
        }


def done_list(session: Session, ticket: Ticket) -> DoneList:
    """The done checklist of the runbook the ticket ran (none if it ran no runbook)."""
    run = runbooks.latest_run(session, ticket)
    checked = tuple(str(x) for x in (ticket.custom_fields or {}).get(DONE_FIELD, []))
    if run is None:
        return DoneList(None, (), checked)
    row = session.get(Runbook, run.runbook_id)
    if row is None:
        raise NotFound(f"runbook run {run.id} refers to a runbook that no longer exists")
    parsed = runbooks.definition(session, row, run.revision_number)
    # The ending the run reached brings its own items; under way, the runbook-wide ones.
    ending = run.outcome_step if run.outcome == "resolved" else None
    return DoneList(parsed.key, parsed.done_items(ending), checked)


def check_item(session: Session, ticket: Ticket, item: str, *, by: Staff | None) -> DoneList:
    """Tick an item, named by its number (1-based) or its text (case-insensitive)."""
    current = done_list(session, ticket)
    if not current.items:
        raise InvalidInput(
            f"ticket #{ticket.id} has not run a runbook, so it has no done checklist"
        )
    chosen = _match_item(current.items, item)
    if chosen in current.checked:
        return current
    fields = dict(ticket.custom_fields or {})
    fields[DONE_FIELD] = [*current.checked, chosen]
    ticket.custom_fields = fields
    add_note(session, ticket, actor=by, kind="done-checked", note=chosen)
    return done_list(session, ticket)


def _match_item(items: tuple[str, ...], ref: str) -> str:
    text = ref.strip()
    if text.isdecimal() and 1 <= int(text) <= len(items):
        return items[int(text) - 1]
    for candidate in items:
        if candidate.casefold() == text.casefold():
            return candidate
    starts = [c for c in items if c.casefold().startswith(text.casefold())] if text else []
    if len(starts) == 1:
        return starts[0]
    listed = "; ".join(f"{i}. {c}" for i, c in enumerate(items, 1))
    raise InvalidInput(f"'{ref}' is not one of the done items: {listed}")


def set_status(
    session: Session, ticket: Ticket, status: str, *, by: Staff | None, note: str | None = None
) -> None:
    if status in ("resolved", "closed") and ticket.status not in ("resolved", "closed"):
        raise InvalidInput("use resolve to finish a ticket, so its done checklist is checked")
    change_ticket(session, ticket, actor=by, note=note, status=status)


def assign(session: Session, ticket: Ticket, assignee: Staff | None, *, by: Staff | None) -> None:
    changes: dict[str, Any] = {"assignee_id": assignee.id if assignee else None}
    if ticket.status == "new" and assignee is not None:
        changes["status"] = "in_progress"
    change_ticket(session, ticket, actor=by, **changes)


def never_run(session: Session, ticket: Ticket) -> str | None:
    """The attached runbook's key when no run of any runbook was started on the ticket."""
    if ticket.runbook_key is None or runbooks.latest_run(session, ticket) is not None:
        return None
    return ticket.runbook_key


def _note_skip(
    session: Session, ticket: Ticket, by: Staff, reason: str | None, refusal: str, how: str
) -> None:
    """Resolving past the runbook needs a reason, written to the history; else `refusal`."""
    if reason is None:
        raise Refused(refusal)
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"the skip reason is longer than {MAX_REASON} characters")
    add_note(session, ticket, actor=by, kind="runbook_skipped", note=f"resolved {how}: {reason}")


def stopped_run(session: Session, ticket: Ticket) -> tuple[str, str] | None:
    """(runbook key, step id) when the ticket's run was started and has not reached an
    ending: its ending's done items (and checks such as "nothing released was phishing")
    are not on the done list yet, so resolving now needs a reason."""
    run = runbooks.current_run(session, ticket)
    if run is None or run.outcome is not None or run.current_step is None:
        return None
    row = session.get(Runbook, run.runbook_id)
    return (row.key if row is not None else "?", run.current_step)


def resolve_ticket(
    session: Session,
    ticket: Ticket,
    *,
    by: Staff,
    override_reason: str | None = None,
    skip_reason: str | None = None,
) -> DoneList:
    """Resolve when the done checklist is complete; L2, owner or admin may override with a reason.
    A ticket whose attached runbook was never started needs the reason it was not run."""
    if ticket.status in ("resolved", "closed"):
        raise InvalidInput(f"ticket #{ticket.id} is already {ticket.status}")
    skip_reason = (skip_reason or "").strip() or None
    skipped = never_run(session, ticket)
    # A runbook never started has no run to have stopped: one look is enough.
    stopped = stopped_run(session, ticket) if skipped is None else None
    if skipped is not None:
        refusal = (
            f"ticket #{ticket.id} follows runbook '{skipped}', which was never started: "
            "run it, or give the reason it was not needed (skip reason)"
        )
        _note_skip(session, ticket, by, skip_reason, refusal, f"without running {skipped}")
    elif stopped is not None:
        refusal = (
            f"ticket #{ticket.id}'s run of '{stopped[0]}' stopped at step '{stopped[1]}' "
            "before any ending: finish the run, or give the reason the ticket is done "
            "anyway (skip reason)"
        )
        # The L2 override's reason says why the ticket is done; it answers this too.
        why = skip_reason or (override_reason or "").strip() or None
        _note_skip(
            session, ticket, by, why, refusal, f"with {stopped[0]} stopped at step {stopped[1]}"
        )
    done = done_list(session, ticket)
    if not done.complete:
        if not override_reason:
            raise Refused(
                f"ticket #{ticket.id} cannot be resolved yet: tick the done list of "
                f"'{done.runbook}' first; missing: " + "; ".join(done.missing)
            )
        if by.level not in OVERRIDE_LEVELS and not by.is_manager:
            raise PermissionDenied(
                "only L2, the owner or an admin may resolve with the done list unticked"
            )
        add_note(
            session,
            ticket,
            actor=by,
            kind="done-override",
            note=f"resolved with unticked items ({'; '.join(done.missing)}): {override_reason}",
        )
    now = utcnow()
    change_ticket(session, ticket, actor=by, at=now, status="resolved", resolved_at=now)
    return done


def reopen(session: Session, ticket: Ticket, *, by: Staff | None, reason: str = "") -> str:
    """Open a resolved (or closed) ticket again: the client says it is not fixed, or it was
    resolved by mistake. It goes back to in progress (new when nobody holds it) and its
    resolved time is cleared, so reports count it as open. The done list starts again:
    resolving a second time checks it afresh (the earlier ticks stay in the history).
    Returns the status it is back in."""
    if ticket.status not in CLOSED:
        raise InvalidInput(
            f"ticket #{ticket.id} is {ticket.status.replace('_', ' ')}, not resolved or closed; "
            "only a finished ticket can be reopened"
        )
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"the reason is longer than {MAX_REASON} characters")
    fields = dict(ticket.custom_fields or {})
    if fields.pop(DONE_FIELD, None) is not None:
        ticket.custom_fields = fields
    add_note(session, ticket, actor=by, kind="reopened", note=reason)
    status = "in_progress" if ticket.assignee_id is not None else "new"
    change_ticket(session, ticket, actor=by, status=status, resolved_at=None)
    return status
