"""Helpers for the PSA and mail tests."""

from __future__ import annotations

from sqlalchemy import Connection, inspect

from franchise.db import Database
from franchise.mailin.models import MailMessage, TicketAttachment
from franchise.psa.models import ImportState, WebhookEvent
from franchise.settings import Settings

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
