"""Output shared by the CLI: integrations, mappings, alert groups and the triage queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.alerts.models import AlertGroup, ClientMapping, Integration
from franchise.alerts.processing import CLOSED, TRIAGE_TAG
from franchise.clients.models import Client
from franchise.tickets.models import Ticket


def _client_name(session: Session, client_id: int | None) -> str | None:
    client = session.get(Client, client_id) if client_id else None
    return client.name if client else None


def hook_url(base: str, kind: str, token: str) -> str:
    return f"{base.rstrip('/')}/api/v1/hooks/{kind}/{token}"


def integration_dict(session: Session, integration: Integration) -> dict[str, Any]:
    return {
        "id": integration.id,
        "kind": integration.kind,
        "name": integration.name,
        "client": _client_name(session, integration.client_id),
        "auto_resolve": integration.auto_resolve,
        "group_by": integration.group_by,
        "token_prefix": integration.token_prefix,
        "created_at": integration.created_at.isoformat(),
        "revoked_at": integration.revoked_at.isoformat() if integration.revoked_at else None,
    }


def mapping_dict(session: Session, mapping: ClientMapping) -> dict[str, Any]:
    return {
        "id": mapping.id,
        "integration_id": mapping.integration_id,
        "label": f"{mapping.label_key}={mapping.label_value}" if mapping.label_key else None,
        "host_pattern": mapping.host_pattern,
        "client": _client_name(session, mapping.client_id),
    }


def list_groups(
    session: Session, *, status: str | None = None, limit: int = 50
) -> list[AlertGroup]:
    query = select(AlertGroup).order_by(AlertGroup.last_seen.desc(), AlertGroup.id.desc())
    if status:
        query = query.where(AlertGroup.status == status)
    return list(session.scalars(query.limit(limit)))


def group_dict(group: AlertGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "integration_id": group.integration_id,
        "dedup_key": group.dedup_key,
        "ticket_id": group.ticket_id,
        "status": group.status,
        "title": group.title,
        "severity": group.severity,
        "host": group.host,
        "count": group.count,
        "first_seen": group.first_seen.isoformat(),
        "last_seen": group.last_seen.isoformat(),
        "resolved_at": group.resolved_at.isoformat() if group.resolved_at else None,
    }


def triage_queue(session: Session) -> list[dict[str, Any]]:
    """Open alert tickets that no mapping could give a client, oldest first."""
    tickets = session.scalars(
        select(Ticket)
        .where(
            Ticket.source == "alert",
            Ticket.client_id.is_(None),
            Ticket.status.not_in(CLOSED),
        )
        .order_by(Ticket.created_at, Ticket.id)
    )
    rows = []
    for ticket in tickets:
        if TRIAGE_TAG not in (ticket.tags or []):
            continue
        fields = ticket.custom_fields or {}
        group = session.get(AlertGroup, fields["alert_group"]) if "alert_group" in fields else None
        rows.append(
            {
                "ticket_id": ticket.id,
                "title": ticket.title,
                "priority": ticket.priority,
                "status": ticket.status,
                "runbook_key": ticket.runbook_key,
                "host": group.host if group else None,
                "count": group.count if group else None,
                "created_at": ticket.created_at.isoformat(),
            }
        )
    return rows
