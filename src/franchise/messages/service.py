"""Client messages: the templates document, rendering for a ticket, sending and the record.

`send_message` records the message as "queued" and puts the e-mail in the outbox; it goes
to the SMTP server after the commit (messages/outbound.py), which sets the status to sent,
retrying or failed and writes the outcome in the ticket history. Callers re-read the
message after their unit of work (`reload_message`) and report with `check_delivered`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.clients.contacts import primary_contact
from franchise.clients.models import Client, ClientContact
from franchise.db import Database, utcnow
from franchise.errors import FranchiseError, InvalidInput, NotFound
from franchise.messages import outbound
from franchise.messages.definition import STAGES, Template, TemplateSet
from franchise.messages.lint import LintContext, lint_templates
from franchise.messages.models import TicketMessage
from franchise.messages.render import make_context, render_message
from franchise.messages.smtp import SmtpConfig, build_email, check_address
from franchise.messages.timing import default_next_update, format_when
from franchise.orgsettings.models import OrgSetting
from franchise.orgsettings.secrets import effective_settings
from franchise.orgsettings.service import get_setting
from franchise.outbox import service as outbox
from franchise.policydocs.document import PolicyDocument, checked
from franchise.policydocs.models import PolicyRevision
from franchise.runbooks import service as runbooks
from franchise.settings import Settings
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note
from franchise.yamldoc.problems import Problem

KIND = "templates"
STARTER = Path(__file__).resolve().parent.parent / "starter" / "templates.yaml"
# Older databases name the organisation in an "organisation" row {"name": ...}; the
# org_name setting (Settings page, `franchise settings set org_name`) wins over it.
ORG_SETTING = "organisation"
AUTO_SEND_SETTING = "auto_send_resolved_message"
DEFAULT_ORG_NAME = "IT Support"
NO_TECHNICIAN = {"name": "The service desk", "email": ""}


class DeliveryFailed(FranchiseError):
    """The message was recorded on the ticket as failed; the SMTP server's reason is given."""

    code = "delivery_failed"
    status = 502


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str
    to: str
    template: Template
    # Who `to` is ("requester", "primary", "given") and the primary contact a CC would
    # reach ("" when there is none, or it is `to` itself).
    to_name: str = ""
    to_kind: str = "given"
    cc: str = ""
    cc_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "body": self.body,
            "to": self.to,
            "to_name": self.to_name,
            "to_kind": self.to_kind,
            "cc_primary": self.cc or None,
            "template": self.template.key,
            "stage": self.template.stage,
        }


# --- the templates document ------------------------------------------------------------


def _lint_stored(source: str, revision: int) -> tuple[TemplateSet | None, list[Problem]]:
    return lint_templates(source, f"<templates revision {revision}>", revision=revision)


DOCUMENT: PolicyDocument[TemplateSet] = PolicyDocument(
    KIND,
    STARTER,
    lambda source, file: lint_templates(source, file),
    lint_stored=_lint_stored,
    cache_size=64,
)


def starter_source() -> str:
    return DOCUMENT.starter_source()


def current_source(session: Session) -> tuple[int, str]:
    """(revision, YAML text) of the templates in use; revision 0 is the shipped starter set."""
    return DOCUMENT.current_source(session)


def load_templates(session: Session) -> TemplateSet:
    return DOCUMENT.current(session).parsed


def lint_context(session: Session) -> LintContext:
    """Runbook overrides are checked against the stored runbooks, once there are any."""
    keys = [r.key for r in runbooks.list_runbooks(session)]
    return LintContext(runbooks=keys or None)


def validate(source: str, file: str, context: LintContext | None = None) -> TemplateSet:
    """Lint a templates document; any problem refuses it with every problem listed."""
    parsed, problems = lint_templates(source, file, context)
    return checked(parsed, problems, file)


def save_templates(
    session: Session,
    source: str,
    *,
    file: str = "<templates>",
    author: Staff | None = None,
    note: str = "",
    expected_revision: int | None = None,
) -> tuple[PolicyRevision, bool]:
    """Lint, then store a new revision unless unchanged. Returns (revision, changed)."""
    context = lint_context(session)
    return DOCUMENT.save(
        session,
        source,
        file=file,
        author=author,
        note=note,
        expected_revision=expected_revision,
        validate=lambda text, where: validate(text, where, context),
    )


def load_starter_templates(session: Session) -> bool:
    """Store the shipped templates as revision 1 when none are stored yet (idempotent)."""
    # Linted without the runbook list: an override for a runbook this database lacks is
    # harmless, and must not stop first-run set-up.
    return DOCUMENT.load_starter(session)


def import_templates(
    session: Session,
    path: Path,
    *,
    author: Staff | None = None,
    note: str = "imported",
    expected_revision: int | None = None,
) -> tuple[PolicyRevision, bool]:
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from None
    return save_templates(
        session,
        source,
        file=str(path),
        author=author,
        note=note,
        expected_revision=expected_revision,
    )


def export_templates(session: Session, path: Path) -> int:
    """Write the templates in use to a file; returns their revision."""
    revision, source = current_source(session)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return revision


# --- choosing and rendering --------------------------------------------------------------


def choose_template(session: Session, ticket: Ticket, stage: str) -> Template:
    """The template for a stage on this ticket: its runbook's override first, else generic."""
    if stage not in STAGES:
        raise InvalidInput(f"unknown stage '{stage}' (use {', '.join(STAGES)})")
    runbook_key, _ = _runbook_position(session, ticket)
    template = load_templates(session).for_stage(stage, runbook_key)
    if template is None:
        raise NotFound(f"no template for stage '{stage}'; add one to the templates document")
    return template


def find_template(session: Session, ticket: Ticket, ref: str) -> Template:
    """By stage (override-aware) or by template key."""
    if ref in STAGES:
        return choose_template(session, ticket, ref)
    templates = load_templates(session)
    template = templates.by_key(ref)
    if template is None:
        raise NotFound(
            f"no template or stage '{ref}' (stages: {', '.join(STAGES)}; "
            f"templates: {', '.join(templates.keys)})"
        )
    return template


def render_for_ticket(
    session: Session,
    ticket: Ticket,
    template: str,
    *,
    technician: Staff | None = None,
    next_update: datetime | None = None,
    to: str | None = None,
) -> RenderedMessage:
    """Fill a template (key or stage) from the ticket. The technician defaults to the
    assignee; the next update to the promise for the ticket's priority."""
    chosen = find_template(session, ticket, template)
    client = session.get(Client, ticket.client_id) if ticket.client_id else None
    address, contact, kind = _recipient(session, ticket, client, to)
    primary = primary_contact(session, client.id) if client is not None else None
    cc = (
        primary
        if primary is not None and (primary.email or "").lower() != address.lower()
        else None
    )
    if technician is None and ticket.assignee_id is not None:
        technician = session.get(Staff, ticket.assignee_id)
    _, step = _runbook_position(session, ticket)
    context = make_context(
        client={"name": client.name, "tier": client.tier} if client else {"name": "", "tier": ""},
        contact=contact,
        ticket={
            "id": ticket.id,
            "title": ticket.title,
            "status": ticket.status,
            "priority": ticket.priority,
            "level": ticket.level,
            "category": ticket.category or "",
        },
        technician=(
            {"name": technician.name, "email": technician.email} if technician else NO_TECHNICIAN
        ),
        next_update=format_when(next_update or default_next_update(ticket.priority, utcnow())),
        step=step,
        org={"name": _org_name(session)},
    )
    subject, body = render_message(chosen, context)
    return RenderedMessage(
        subject,
        body,
        address,
        chosen,
        to_name=contact["name"],
        to_kind=kind,
        cc=(cc.email or "") if cc is not None else "",
        cc_name=cc.name if cc is not None else "",
    )


def _recipient(
    session: Session, ticket: Ticket, client: Client | None, to: str | None
) -> tuple[str, dict[str, str], str]:
    """(address, contact, kind) for the message: `to` if given ("given"); else the ticket's
    requester when they have an e-mail address ("requester"); else the client's primary
    contact with an address, or its first contact with one ("primary")."""
    contacts: list[ClientContact] = []
    if client is not None:
        contacts = list(
            session.scalars(
                select(ClientContact)
                .where(ClientContact.client_id == client.id, ClientContact.email.is_not(None))
                .order_by(ClientContact.is_primary.desc(), ClientContact.id)
            )
        )
        contacts = [c for c in contacts if c.email and c.email.strip()]
    if to:
        address = check_address(to)
        known = next((c for c in contacts if (c.email or "").lower() == address.lower()), None)
        # Someone outside the contact list is greeted by the company they work for.
        name = known.name if known else (client.name if client else "there")
        return address, {"name": name, "email": address}, "given"
    requester = session.get(ClientContact, ticket.requester_id) if ticket.requester_id else None
    if requester is not None and (requester.email or "").strip():
        address = check_address(requester.email or "")
        return address, {"name": requester.name, "email": address}, "requester"
    if client is None:
        raise InvalidInput(
            f"ticket #{ticket.id} has no client, so there is no contact to write to; "
            "give a recipient address"
        )
    if not contacts:
        raise InvalidInput(
            f"client '{client.name}' has no contact with an e-mail address; "
            "add one or give a recipient address"
        )
    chosen = contacts[0]
    address = check_address(chosen.email or "")
    return address, {"name": chosen.name, "email": address}, "primary"


def _runbook_position(session: Session, ticket: Ticket) -> tuple[str | None, dict[str, str]]:
    """(runbook key, current step) for the ticket: its run, else its attached runbook (never
    one only offered, nor one detached since)."""
    run = runbooks.current_run(session, ticket)
    if run is None:
        return ticket.runbook_key, {"id": "", "text": ""}
    state = runbooks.run_state(session, run)
    return state.runbook.key, {"id": state.step.id, "text": state.step.text}


def _org_name(session: Session) -> str:
    for key, field in (("org_name", "value"), (ORG_SETTING, "name")):
        row = session.get(OrgSetting, key)
        name = str((row.value or {}).get(field) or "").strip() if row is not None else ""
        if name:
            return name
    return DEFAULT_ORG_NAME


# --- sending and the record --------------------------------------------------------------


def send_message(
    session: Session,
    ticket: Ticket,
    *,
    template: str,
    by: Staff | None,
    settings: Settings,
    to: str | None = None,
    next_update: datetime | None = None,
    cc_primary: bool = False,
    body: str | None = None,
) -> TicketMessage:
    """Render the message, record it on the ticket as "queued" and queue the e-mail.
    `by` None: sent by Franchise itself (the outage message), signed by the assignee or
    the service desk.

    It goes to the requester unless `to` names someone; `cc_primary` copies the client's
    primary contact. A `body` given replaces the rendered text (the technician edited it):
    what is stored is what was sent.

    Nothing is sent here: the e-mail goes after the caller's transaction commits, so a
    rolled-back request e-mails nobody and no transaction waits on the SMTP server.
    """
    # Delivery values saved on the Settings page win over the environment; checked now so
    # a message that could never go out is refused before anything is recorded.
    config = SmtpConfig.from_settings(effective_settings(session, settings))
    rendered = render_for_ticket(
        session, ticket, template, technician=by, next_update=next_update, to=to
    )
    text, edited = rendered.body, False
    if body is not None and _edited_body(body).strip() != rendered.body.strip():
        text, edited = _edited_body(body), True
    cc = rendered.cc if cc_primary else ""
    if cc_primary and not cc:
        raise InvalidInput(
            "there is no primary contact with an e-mail address to copy "
            "(or the primary contact is already the recipient)"
        )
    build_email(config, to=rendered.to, subject=rendered.subject, body=text, cc=cc or None)
    message = TicketMessage(
        ticket_id=ticket.id,
        template_key=rendered.template.key,
        stage=rendered.template.stage,
        to_address=rendered.to,
        cc_address=cc or None,
        subject=rendered.subject,
        body=text,
        edited=edited,
        author_id=by.id if by is not None else None,
        status="queued",
    )
    session.add(message)
    session.flush()
    outbox.enqueue(
        session,
        outbound.KIND,
        outbound.payload_for(message),
        ticket_id=ticket.id,
        settings=settings,
    )
    return message


MAX_BODY = 20_000


def _edited_body(body: str) -> str:
    text = body.replace("\r\n", "\n").strip("\n")
    if not text.strip():
        raise InvalidInput("the message body is empty; write something or keep the template's")
    if len(text) > MAX_BODY:
        raise InvalidInput(
            f"the message body is {len(text):,} characters; the limit is {MAX_BODY:,}"
        )
    return text + "\n"


def reload_message(db: Database, message_id: int) -> TicketMessage:
    """The message as it stands after its unit of work (and the delivery that followed)."""
    with db.unit_of_work() as session:
        return message_in(session, message_id)


def message_in(session: Session, message_id: int) -> TicketMessage:
    """`reload_message` in a unit of work already open (opened after the delivery): on
    SQLite a second one inside it would wait for the lock the first holds."""
    message = session.get(TicketMessage, message_id)
    if message is None:
        raise NotFound(f"message #{message_id} does not exist")
    return message


@dataclass(frozen=True)
class AutoSend:
    """What resolving did about the client's resolved message."""

    status: str  # off | queued | sent | failed | skipped
    text: str = ""  # where it went, or why not: "Resolved message sent to ..."
    message: TicketMessage | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "text": self.text,
            "message": message_dict(self.message) if self.message is not None else None,
        }


def send_resolved_message(
    session: Session, ticket: Ticket, *, by: Staff, settings: Settings
) -> AutoSend:
    """Send the client the resolved message when the organisation has switched that on.

    Never raises for a problem of set-up or data: the ticket is resolved by now and must stay
    so. No contact address, SMTP not set up or a template that does not render is written to
    the ticket history as the reason nothing was sent. The message is queued; after the
    commit, `settle_auto_send` says how its delivery went.
    """
    try:
        if not get_setting(session, AUTO_SEND_SETTING):
            return AutoSend("off")
        # The savepoint keeps a refusal from leaving part of a message behind.
        with session.begin_nested():
            message = send_message(session, ticket, template="resolved", by=by, settings=settings)
    except FranchiseError as exc:
        text = f"Resolved message not sent: {exc.message}"
        add_note(session, ticket, actor=by, kind="message_skipped", note=text)
        session.flush()
        return AutoSend("skipped", text)
    return AutoSend("queued", f"Resolved message queued for {message.to_address}", message)


def settle_auto_send(db: Database, sent: AutoSend) -> AutoSend:
    """After the commit: what became of the queued resolved message."""
    if sent.message is None:
        return sent
    with db.unit_of_work() as session:
        return settle_auto_send_in(session, sent)


def settle_auto_send_in(session: Session, sent: AutoSend) -> AutoSend:
    """`settle_auto_send` in a unit of work opened after the commit."""
    if sent.message is None:
        return sent
    message = message_in(session, sent.message.id)
    if message.status == "sent":
        return AutoSend("sent", f"Resolved message sent to {message.to_address}", message)
    if message.status in ("failed", "retrying"):
        text = f"Resolved message not delivered to {message.to_address}: {message.error}"
        if message.status == "retrying":
            text += " (it will be tried again)"
        return AutoSend("failed", text, message)
    return AutoSend("queued", sent.text, message)


def check_delivered(message: TicketMessage) -> None:
    """Raise DeliveryFailed for a message not delivered (read after the commit)."""
    if message.status in ("failed", "retrying"):
        later = "; it will be tried again" if message.status == "retrying" else ""
        raise DeliveryFailed(
            f"message to {message.to_address} was not delivered: {message.error} "
            f"(recorded on ticket #{message.ticket_id} as {message.status}{later})",
            errors=[message_dict(message)],
        )


def list_messages(session: Session, ticket: Ticket) -> list[TicketMessage]:
    return list(
        session.scalars(
            select(TicketMessage)
            .where(TicketMessage.ticket_id == ticket.id)
            .order_by(TicketMessage.created_at, TicketMessage.id)
        )
    )


def message_dict(message: TicketMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "ticket_id": message.ticket_id,
        "template": message.template_key,
        "stage": message.stage,
        "to": message.to_address,
        "cc": message.cc_address,
        "subject": message.subject,
        "body": message.body,
        "edited": message.edited,
        "author_id": message.author_id,
        "status": message.status,
        "error": message.error,
        "created_at": message.created_at.isoformat() if message.created_at else None,
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
    }


def template_dicts(templates: TemplateSet) -> list[dict[str, Any]]:
    return [
        {
            "key": t.key,
            "stage": t.stage,
            "runbook": t.runbook,
            "description": t.description,
            "subject": t.subject,
            "body": t.body,
        }
        for t in templates.templates
    ]
