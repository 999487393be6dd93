"""Client companies, their contacts and their endpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false, func
from sqlalchemy.orm import Mapped, mapped_column

from franchise.db import Base, utcnow

TIERS = ("essential", "standard", "premium")


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    tier: Mapped[str] = mapped_column(String(32), default="standard")
    endpoint_count: Mapped[int] = mapped_column(default=0)
    # Outage correlation for this client; None: the organisation's settings.
    outage_alert_groups: Mapped[int | None]
    outage_window_minutes: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # An archived client leaves the pickers (new tickets, imports by name still match it);
    # its tickets, contacts and profile stay.
    archived_at: Mapped[datetime | None]


class ClientContact(Base):
    __tablename__ = "client_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    mobile: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(100))
    is_primary: Mapped[bool] = mapped_column(default=False)
    is_vip: Mapped[bool] = mapped_column(default=False, server_default=false())
    # May say yes to work that costs the client money (an approval's "authorised contact").
    can_approve_spend: Mapped[bool] = mapped_column(default=False, server_default=false())


class ClientFact(Base):
    """One fact of a client's profile (its VPN, backup product, mail gateway ...), which
    answers the runbook checks that name it. `source` says where it came from: typed by
    someone, or saved from a runbook answer on `ticket_id`."""

    __tablename__ = "client_facts"
    __table_args__ = (UniqueConstraint("client_id", "key", name="client_fact_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="typed")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Endpoint(Base):
    __tablename__ = "endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    hostname: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="workstation")
    os: Mapped[str | None] = mapped_column(String(100))
    last_seen_at: Mapped[datetime | None]


# Alerts are routed by host name whatever its case (`lower(hostname) IN (...)`); without this
# index that lookup scans every endpoint.
Index("ix_endpoints_hostname_lower", func.lower(Endpoint.hostname))
