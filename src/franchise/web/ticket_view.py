"""What the ticket page shows, built from the services: the runner, suggestions, escalation
panel, message composer, done list and the history in plain words.

No HTTP here: web/ticket_page.py and its sibling route modules (ticket_runner, ticket_ask)
answer the requests and render what `page_context` returns.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import get_staff, list_staff
from franchise.accounts.sessions import SignedIn
from franchise.alerts.ticket_alerts import ticket_alerts
from franchise.approvals.details import ApprovalDetails, approval_details
from franchise.approvals.models import ApprovalRequest
from franchise.approvals.service import list_requests
from franchise.ask.answer import STAGE_FOR_STATUS
from franchise.ask.reply import may_reply, ticket_asks
from franchise.ask.service import pending_step
from franchise.clients.contacts import list_contacts, phones
from franchise.clients.models import ClientContact
from franchise.clients.service import get_client
from franchise.contacts.models import REASONS
from franchise.drills.service import active_drill, window
from franchise.errors import FranchiseError
from franchise.escalation.facts import covering_runbook
from franchise.escalation.service import check_escalation, current_map, escalation_offer
from franchise.flows import runs
from franchise.lessons.service import list_lessons
from franchise.messages.definition import STAGES
from franchise.messages.service import choose_template, load_templates, render_for_ticket
from franchise.orgsettings.service import get_config
from franchise.runbooks import service as runbooks
from franchise.runbooks.definition import CATEGORIES
from franchise.runbooks.engine import RunState
from franchise.runbooks.models import RunbookRun
from franchise.suggest.service import suggest
from franchise.tickets import lifecycle, notes
from franchise.tickets.models import STATUSES, NoteAttachment, Ticket, TicketEvent
from franchise.tickets.requester import may_change_requester
from franchise.tickets.service import history

# Statuses a technician sets by hand; resolving goes through the done checklist.
MANUAL_STATUSES = tuple(s for s in STATUSES if s not in ("resolved", "closed"))


@dataclass(frozen=True)
class Notice:
    """The outcome of an action, shown inside the panel it belongs to."""

    panel: str
    tone: str  # ok | error | warn | info
    text: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    who: str
    action: str
    note: str = ""
    kind: str = "event"


@dataclass
class Runner:
    """The ticket's latest run as the runner shows it.

    `view` is flows.runs.runner_view, the dict every runner (CLI, API, web) shows; the rest
    is what only the page needs: the answered path, the inputs in words, the approval row.
    """

    run: RunbookRun
    state: RunState
    view: dict[str, Any] = field(default_factory=dict)
    answered: list[dict[str, Any]] = field(default_factory=list)
    inputs: list[tuple[str, str]] = field(default_factory=list)
    approval: ApprovalRequest | None = None
    # Who decided the approval and in their own words (approvals.details), once decided.
    decision: ApprovalDetails | None = None
    client: str | None = None

    @property
    def next(self) -> dict[str, Any] | None:
        nxt = self.view.get("next")
        return nxt if isinstance(nxt, dict) else None

    @property
    def blocked_by(self) -> dict[str, Any] | None:
        nxt = self.next
        return nxt.get("blocked_by") if nxt else None

    @property
    def waiting(self) -> bool:
        """The step waits on a pending approval: the page polls until it is decided."""
        blocked = self.blocked_by
        return blocked is not None and blocked.get("status") == "pending"

    @property
    def title(self) -> str:
        return step_title(self.state.current)


# Words in step ids that are abbreviations, written as people write them.
ABBREVIATIONS = {
    w.lower(): w
    for w in [
        "AD",
        "DC",
        "DNS",
        "DHCP",
        "IP",
        "LDAP",
        "LDAPS",
        "MFA",
        "NPS",
        "OS",
        "PC",
        "RDP",
        "RDS",
        "RMM",
        "SAML",
        "SSO",
        "TAP",
        "TLS",
        "VPN",
        "VSS",
        "VM",
        "AV",
        "EDR",
        "UPN",
        "SMTP",
        "SPF",
        "DKIM",
        "DMARC",
        "M365",
        "IPsec",
        "WSUS",
        "FortiOS",
    ]
}


def step_title(step_id: str) -> str:
    """A step id as words: 'check-certificate' -> 'Check certificate', 'vpn-type' -> 'VPN
    type'; a shared step's namespaced id 'verify.manager' -> 'Verify: manager'."""
    parts = []
    for part in step_id.split("."):
        words = [ABBREVIATIONS.get(w.lower(), w) for w in re.split(r"[-_\s]+", part) if w]
        if words:
            parts.append(" ".join(words))
    text = ": ".join(parts)
    return text[:1].upper() + text[1:]


def staff_row(session: Session, user: SignedIn) -> Staff:
    return get_staff(session, user.staff_id)


def _runner(session: Session, ticket: Ticket) -> Runner | None:
    run = runbooks.latest_run(session, ticket)
    if run is None:
        return None
    state = runbooks.run_state(session, run)
    labels = {i.id: i.label for i in state.runbook.inputs}
    client = get_client(session, ticket.client_id).name if ticket.client_id else None
    runner = Runner(run=run, state=state, view=runs.runner_view(session, run), client=client)
    runner.inputs = [(labels.get(k, k), str(v)) for k, v in (run.inputs or {}).items() if v]
    steps = runbooks.run_steps(session, run)
    for number, step in enumerate(steps, 1):
        defined = state.runbook.steps.get(step.step_id)
        runner.answered.append(
            {
                "step": step.step_id,
                "title": step_title(step.step_id),
                "text": defined.text if defined else "",
                "row": step,
                "from_profile": (step.note or "").startswith(runs.PROFILE_NOTE),
                # Steps back needed to make this step current again (the "change" link).
                "back": len(steps) - number + 1,
            }
        )
    if state.step.kind == "action":
        runner.approval = next(
            (
                r
                for r in list_requests(session, ticket=ticket)
                if r.run_id == run.id and r.step_id == state.current
            ),
            None,
        )
        if runner.approval is not None and runner.approval.status != "pending":
            currency = get_config(session).currency
            runner.decision = approval_details(session, [runner.approval], currency)[0]
    return runner


def _suggestions(session: Session, ticket: Ticket) -> list[dict[str, Any]]:
    """The best runbooks for the ticket, the attached one first, each with its inputs."""
    found = suggest(session, f"{ticket.title}\n{ticket.body}")
    rows: list[dict[str, Any]] = [
        {"key": s.key, "title": s.title, "why": s.why, "score": s.score} for s in found
    ]
    if ticket.runbook_key and all(r["key"] != ticket.runbook_key for r in rows):
        try:
            attached = runbooks.get_runbook(session, ticket.runbook_key)
        except FranchiseError:
            attached = None
        if attached is not None:
            rows.insert(0, {"key": attached.key, "title": attached.title, "why": "", "score": 0})
    rows.sort(key=lambda r: r["key"] != ticket.runbook_key)
    for row in rows:
        parsed = runbooks.definition(session, runbooks.get_runbook(session, row["key"]))
        row["inputs"] = parsed.inputs
        row["attached"] = row["key"] == ticket.runbook_key
    return rows


def _lesson_runbook(
    session: Session, ticket: Ticket, runner: Runner | None, keys: list[str]
) -> str:
    """The lesson form's preselected choice: the runbook being run, else the one covering the
    ticket; with neither, '' (a new runbook is needed for tickets like this one)."""
    if runner is not None and runner.state.runbook.key in keys:
        return runner.state.runbook.key
    covering = covering_runbook(session, ticket)
    return covering.key if covering is not None else ""


def _composer(session: Session, ticket: Ticket, me: Staff, runner: Runner | None) -> dict[str, Any]:
    runbook_key = runner.state.runbook.key if runner else ticket.runbook_key
    templates = [t for t in load_templates(session).templates if t.runbook in (None, runbook_key)]
    groups = [(stage, [t for t in templates if t.stage == stage]) for stage in STAGES]
    if ticket.status in ("resolved", "closed") or (runner and runner.state.outcome == "resolved"):
        stage = "resolved"
    elif runner and runner.state.outcome == "escalate":
        stage = "escalated"
    else:
        stage = STAGE_FOR_STATUS.get(ticket.status, "update")
    try:
        chosen = choose_template(session, ticket, stage).key
    except FranchiseError:
        chosen = templates[0].key if templates else ""
    return {
        "groups": [(s, ts) for s, ts in groups if ts],
        "chosen": chosen,
        "preview": preview(session, ticket, me, chosen),
    }


def preview(session: Session, ticket: Ticket, me: Staff, template: str) -> dict[str, str]:
    """The message a template makes for the ticket. `template` names the template the text
    came from: the form sends it back, so a send can tell that text from an edit."""
    preview = {
        "template": template,
        "error": "",
        "to": "",
        "to_name": "",
        "to_kind": "",
        "cc": "",
        "cc_name": "",
        "subject": "",
        "body": "",
        # "yes" when the text differs from the template's (a draft given back after a send
        # that did not go), and when the copy to the primary contact was ticked.
        "edited": "",
        "cc_checked": "",
    }
    if not template:
        return {**preview, "error": "There are no message templates; ask the owner to add some."}
    try:
        message = render_for_ticket(session, ticket, template, technician=me)
    except FranchiseError as exc:
        return {**preview, "error": exc.message}
    return {
        **preview,
        "to": message.to,
        "to_name": message.to_name,
        "to_kind": message.to_kind,
        "cc": message.cc,
        "cc_name": message.cc_name,
        "subject": message.subject,
        "body": message.body,
    }


def same_text(body: str, rendered: str) -> bool:
    """Whether a submitted message body is the rendered text unchanged (the browser sends
    CRLF line ends, and a trailing newline may come or go)."""
    return body.replace("\r\n", "\n").strip() == rendered.strip()


def keep_draft(
    session: Session,
    ticket: Ticket,
    me: Staff,
    composer: dict[str, Any],
    *,
    template: str,
    body: str | None,
    cc_primary: bool,
) -> dict[str, Any]:
    """The composer after a send that did not go: the template, text and copy box as the
    technician left them, so a refusal (no SMTP, a server that said no) never costs what
    they wrote. An unknown template leaves the composer as it is."""
    if not any(t.key == template for _, group in composer["groups"] for t in group):
        return composer
    shown = preview(session, ticket, me, template)
    if shown["error"]:
        return {**composer, "chosen": template, "preview": shown}
    if body is not None and not same_text(body, shown["body"]):
        shown.update(body=body, edited="yes")
    if cc_primary and shown["cc"]:
        shown["cc_checked"] = "yes"
    return {**composer, "chosen": template, "preview": shown}


def _history(
    session: Session, ticket: Ticket, names: dict[int, str], runner: Runner | None
) -> list[HistoryRow]:
    rows = [_event_row(e, names) for e in history(session, ticket)]
    if runner is not None:
        for step in runbooks.run_steps(session, runner.run, include_retracted=True):
            action = f"answered {step.step_id}: {step.answer}"
            if step.retracted_at is not None:
                action += " (later stepped back)"
            who = names.get(step.actor_id, "Someone") if step.actor_id else "System"
            rows.append(HistoryRow(step.at, who, action, step.note or "", "answer"))
    return sorted(rows, key=lambda r: r.at)


def _event_row(event: TicketEvent, names: dict[int, str]) -> HistoryRow:
    who = names.get(event.actor_id, "Someone") if event.actor_id else "System"
    note = event.note or ""
    if event.kind != "changed" or not event.field:
        action = {
            "created": "opened the ticket",
            "done-checked": "ticked a done item",
            "done-override": "resolved with the done list unticked",
            "message": "e-mailed the client",
            "message_failed": "could not e-mail the client",
            "message_retrying": "could not e-mail the client yet",
            "owner_notified": "notified the owner",
            "owner_notify_failed": "could not notify the owner",
            "psa_webhook": "told the PSA",
            "psa_webhook_failed": "could not tell the PSA",
            "message_skipped": "did not e-mail the client",
            "owner_ask": "asked the owner",
            "escalation_override": "overrode the escalation map",
            "approval": "updated an approval request",
            "run-back": "stepped back in the runbook",
            "fact-saved": "saved an answer to the client profile",
            "fact-not-saved": "did not save an answer to the client profile",
            "note": "added an internal note",
            "runbook_skipped": "resolved without running the runbook",
            "category_kept": "kept the category by hand",
            "reopened": "reopened the ticket",
        }.get(event.kind, event.kind.replace("_", " ").replace("-", " "))
        return HistoryRow(event.at, who, action, note, event.kind)
    if event.field == "assignee_id":
        target = names.get(int(event.new_value), "someone") if event.new_value else None
        action = f"assigned it to {target}" if target else "unassigned it"
    elif event.field == "custom_fields":
        allowed = _literal(event.new_value).get("escalation_allowed", "?")
        action = f"set escalation allowed to {str(allowed).capitalize()}"
    elif event.field == "tags":
        tags = _literal(event.new_value)
        action = "set the tags to " + (", ".join(map(str, tags)) if tags else "none")
    elif event.field == "requester":
        if event.new_value is None:
            action = f"cleared the requester (was {event.old_value or 'nobody'})"
        elif event.old_value is None:
            action = f"set the requester to {event.new_value}"
        else:
            action = f"changed the requester from {event.old_value} to {event.new_value}"
    elif event.field.endswith("_at"):
        what = event.field.removesuffix("_at").replace("_", " ")
        # Reopening clears the resolved time.
        action = f"recorded the {what} time" if event.new_value else f"cleared the {what} time"
    else:
        old = f" from {_label(event.old_value)}" if event.old_value else ""
        action = f"changed {event.field.replace('_', ' ')}{old} to {_label(event.new_value)}"
    return HistoryRow(event.at, who, action, note, event.field)


def _literal(value: str | None) -> Any:
    """History stores old and new values as text (Python reprs of lists and dicts)."""
    try:
        return ast.literal_eval(value or "{}")
    except (ValueError, SyntaxError):
        return {}


def _label(value: str | None) -> str:
    return (value or "nothing").replace("_", " ")


def _escalation(
    session: Session, ticket: Ticket, user: SignedIn, names: dict[int, str]
) -> dict[str, Any]:
    """The map's decision and the one button it accepts (evaluated here, on the server, so
    the page never offers what escalating would refuse), and who holds the ticket now."""
    decision = check_escalation(session, ticket)
    esc_map = current_map(session).map
    offer = escalation_offer(esc_map, ticket, decision, can_override=user.is_manager)
    return {
        "decision": decision,
        "pending": pending_step(session, ticket),
        "offer": offer,
        "closed": ticket.status in ("resolved", "closed"),
        "escalated": esc_map.rank(ticket.level) > 0,
        "holder": names.get(ticket.assignee_id) if ticket.assignee_id else None,
    }


def _requester(session: Session, ticket: Ticket) -> dict[str, Any] | None:
    """The requester as the Details panel shows it, with the numbers on file."""
    if ticket.requester_id is None:
        return None
    contact = session.get(ClientContact, ticket.requester_id)
    if contact is None:
        return None
    return {
        "name": contact.name,
        "email": contact.email,
        "phones": phones(contact),
        "vip": contact.is_vip,
        "approves_spend": contact.can_approve_spend,
    }


def _requester_choices(session: Session, ticket: Ticket, me: Staff) -> list[ClientContact]:
    """The client's contacts to pick the requester from; none when this person may not
    change it (the page then offers no control) or the ticket has no client."""
    if ticket.client_id is None or not may_change_requester(me, ticket):
        return []
    return list_contacts(session, ticket.client_id)


def _notes(session: Session, ticket: Ticket, names: dict[int, str]) -> list[dict[str, Any]]:
    """Internal notes, newest first, each with its minutes and files."""
    files: dict[int, list[NoteAttachment]] = {}
    for row in notes.attachments(session, ticket):
        files.setdefault(row.event_id, []).append(row)
    return [
        {
            "at": e.at,
            "who": names.get(e.actor_id, "Someone") if e.actor_id else "System",
            "text": e.note or "",
            "minutes": e.minutes,
            "files": files.get(e.id, []),
        }
        for e in reversed(history(session, ticket))
        if e.kind == "note"
    ]


def page_context(
    session: Session, ticket: Ticket, user: SignedIn, notice: Notice | None = None
) -> dict[str, Any]:
    me = staff_row(session, user)
    staff = list_staff(session)
    names = {s.id: s.name for s in staff}
    runner = _runner(session, ticket)
    done = lifecycle.done_list(session, ticket)
    drill = active_drill(session)
    never_run = lifecycle.never_run(session, ticket)
    keys = [r.key for r in runbooks.list_runbooks(session, include_archived=False)]
    return {
        "ticket": ticket,
        "client": get_client(session, ticket.client_id).name if ticket.client_id else None,
        "requester": _requester(session, ticket),
        "requester_choices": _requester_choices(session, ticket, me),
        "staff": names,
        "runner": runner,
        "suggestions": _suggestions(session, ticket) if runner is None else [],
        "esc": _escalation(session, ticket, user, names),
        "done": done,
        "never_run": never_run,
        # A runbook never started has no run to have stopped.
        "stopped_run": None if never_run else lifecycle.stopped_run(session, ticket),
        "can_override_done": me.level in lifecycle.OVERRIDE_LEVELS or me.is_manager,
        "composer": _composer(session, ticket, me, runner),
        "reasons": REASONS,
        "asks": ticket_asks(session, ticket.id),
        "can_reply": may_reply(me.level, me.is_manager),
        "drill_until": window(drill).until if drill else None,
        "lessons": list_lessons(session, ticket_id=ticket.id),
        "runbook_keys": keys,
        "lesson_runbook": _lesson_runbook(session, ticket, runner, keys),
        "events": _history(session, ticket, names, runner),
        "alerts": ticket_alerts(session, ticket.id) if ticket.source == "alert" else None,
        "notes": _notes(session, ticket, names),
        "categories": CATEGORIES,
        "minutes_worked": notes.minutes_worked(session, ticket),
        "attachment_max_bytes": session.info["franchise_settings"].attachment_max_bytes
        if "franchise_settings" in session.info
        else notes.DEFAULT_MAX_BYTES,
        "note_draft": "",
        "minutes_draft": "",
        "statuses": MANUAL_STATUSES,
        "closed": ticket.status in ("resolved", "closed"),
        "notice": notice,
        "oob": False,
    }
