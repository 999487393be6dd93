"""Helpers for the PSA and mail tests."""

from __future__ import annotations

from sqlalchemy import Connection, inspect, select

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.flows.escalations import escalate
from franchise.flows.runs import begin_run, record_answer
from franchise.mailin.models import MailMessage, TicketAttachment
from franchise.outbox.models import OutboxItem
from franchise.psa.connectors.store import save_connection
from franchise.psa.models import ImportState, WebhookEvent
from franchise.runbooks import service as runbooks
from franchise.settings import Settings
from franchise.tickets.models import Ticket

OUR_TABLES = [WebhookEvent, ImportState, TicketAttachment, MailMessage]
# The settings carry the PSA webhook and IMAP fields; the old name is kept for the tests.
PsaSettings = Settings


def ensure_tables(db: Database) -> bool:
    """The migrations created the PSA and mail tables (a missing one fails the test)."""
    assert isinstance(db.bind, Connection)
    existing = set(inspect(db.bind).get_table_names())
    missing = [m.__tablename__ for m in OUR_TABLES if m.__tablename__ not in existing]
    assert missing == [], f"migrations did not create {missing}"
    return True


def connect(
    db: Database,
    settings: Settings,
    vendor: str,
    url: str,
    *,
    options: dict[str, str],
    secrets: dict[str, str],
) -> None:
    """A set-up installation connected to a PSA stand-in, with the settings queued pushes
    are sent with in every session (as `franchise serve` and the CLI have them)."""
    db.session_info["franchise_settings"] = settings
    with db.unit_of_work() as session:
        initialise(session)
        save_connection(session, settings, vendor=vendor, url=url, options=options, secrets=secrets)


def ticket_for(db: Database, number: str) -> Ticket:
    with db.unit_of_work() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.external_id == number))
        assert ticket is not None, f"ticket {number} was not imported"
        return ticket


def staff(db: Database) -> tuple[Staff, Staff]:
    """Tess, an L1 technician, and Olive, the owner."""
    with db.unit_of_work() as session:
        tech = add_staff(session, name="Tess", email="t@msp.example", role="technician", level="L1")
        owner = add_staff(session, name="Olive", email="o@msp.example", role="owner", level="owner")
        return tech, owner


def answer_lockout(db: Database, ticket_id: int, tech: Staff, reply: str) -> None:
    """Tess starts the account-lockout runbook on the ticket and answers its first step."""
    with db.unit_of_work() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        run = begin_run(
            session, runbooks.get_runbook(session, "account-lockout"), ticket=ticket, actor=tech
        )
        record_answer(session, run, step="identity", reply=reply, actor=tech)


def escalate_to_l2(db: Database, ticket_id: int, by: Staff, reason: str) -> None:
    with db.unit_of_work() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        escalate(session, ticket, to="L2", by=by, override_reason=reason)


def pending_push(db: Database) -> OutboxItem:
    """The one PSA push waiting in the outbox (for a retry)."""
    with db.unit_of_work() as session:
        item = session.scalar(
            select(OutboxItem).where(OutboxItem.kind == "psa_push", OutboxItem.state == "pending")
        )
        assert item is not None, "no PSA push is waiting"
        return item
