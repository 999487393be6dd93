"""Helpers for the PSA and mail tests."""

from __future__ import annotations

from sqlalchemy import Connection, inspect, select

from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.mailin.models import MailMessage, TicketAttachment
from franchise.psa.connectors.store import save_connection
from franchise.psa.models import ImportState, WebhookEvent
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
