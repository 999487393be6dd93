"""Alert integrations, the raw-payload inbox, alert groups and client mappings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from franchise.db import Base, utcnow

INBOX_STATES = ("pending", "processing", "done", "failed", "rejected")
GROUP_STATUSES = ("firing", "resolved")
# group: one ticket per notification group where the format has one (Alertmanager's
# groupKey); alert: one ticket per alert (its fingerprint), the usual RMM norm.
GROUP_BY = ("group", "alert")


class Integration(Base):
    """One monitoring source posting to /hooks/{kind}/{token}; only the token's hash is kept."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    auto_resolve: Mapped[bool] = mapped_column(default=False)
    group_by: Mapped[str] = mapped_column(String(16), default="group", server_default="alert")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class InboxItem(Base):
    """A webhook body exactly as received; processing reads it from here, never from the request."""

    __tablename__ = "alert_inbox"
    __table_args__ = (Index("ix_alert_inbox_state_id", "state", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body: Mapped[str] = mapped_column(Text)
    alert_count: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None]
    # Alerts applied so far (in processing order): a large body is applied over several
    # transactions, each committing its part of the tickets together with this count.
    progress: Mapped[int] = mapped_column(default=0, server_default="0")
    # Alerts that could not be stored, each {"alert": index in the body, "dedup_key", "error"};
    # the other alerts of the body were applied.
    alert_errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class AlertGroup(Base):
    """All notifications of one alert (one dedup key of one integration): one open ticket."""

    __tablename__ = "alert_groups"
    __table_args__ = (
        UniqueConstraint("integration_id", "dedup_key", name="integration_dedup_key"),
        # Outage correlation: recent groups of a site or of a client.
        Index("ix_alert_groups_site_first_seen", "site", "first_seen"),
        Index("ix_alert_groups_client_first_seen", "client_id", "first_seen"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id"))
    dedup_key: Mapped[str] = mapped_column(String(255))
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="firing")
    title: Mapped[str] = mapped_column(String(500))
    severity: Mapped[str] = mapped_column(String(16))
    host: Mapped[str | None] = mapped_column(String(255))
    count: Mapped[int] = mapped_column(default=0)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    # Receipt time of the event that set `status`; an older event processed late never
    # overrides it (parallel workers may finish payloads out of order).
    status_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    # A notification group's alerts by fingerprint: {"status", "host", "title", "at"}.
    members: Mapped[dict[str, Any] | None]
    # Where outage correlation counts the group: its client and its `site` label.
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    site: Mapped[str | None] = mapped_column(String(255))
    # The outage the group is a child of; its ticket is then the outage's ticket.
    outage_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_outages.id", ondelete="SET NULL"), index=True
    )


class AlertOutage(Base):
    """Many new alert groups of one client or one site within minutes: one outage ticket
    whose children are the groups. Open until its last child resolves."""

    __tablename__ = "alert_outages"
    __table_args__ = (Index("ix_alert_outages_scope_open", "scope", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "site:<label value>" or "client:<id>".
    scope: Mapped[str] = mapped_column(String(300))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime]
    # The last time a group joined: a group joins while this is within the window.
    last_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class ClientMapping(Base):
    """Route alerts to a client by a label value or a host-name pattern."""

    __tablename__ = "client_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: the mapping applies to every integration.
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), index=True
    )
    label_key: Mapped[str | None] = mapped_column(String(100))
    label_value: Mapped[str | None] = mapped_column(String(255))
    host_pattern: Mapped[str | None] = mapped_column(String(255))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
