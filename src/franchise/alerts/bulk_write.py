"""Writing a bulk plan: one multi-row INSERT or executemany UPDATE per table, new ids read
back in insertion order, and each item's progress recorded."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm import Session

from franchise.alerts.bulk_plan import (
    EVENTS,
    GROUPS,
    ITEMS,
    TICKETS,
    WEBHOOKS,
    Part,
    Plan,
    PlannedTicket,
)
from franchise.alerts.models import AlertOutage
from franchise.alerts.processing import Batch
from franchise.db import utcnow
from franchise.escalation.evaluate import OWN_TAG_PREFIX
from franchise.escalation.service import FIELD as ESCALATION_FIELD
from franchise.escalation.service import check_escalation
from franchise.psa.outbox import EVENT, TRACKED, snapshot
from franchise.tickets.models import Ticket


def write_plan(session: Session, plan: Plan, batch: Batch) -> None:
    # New groups first, in key order: a parallel worker inserting the same key fails (or
    # waits) here, before any ticket exists.
    new_groups = sorted(
        (g for g in plan.groups.values() if g is not None and g.id is None),
        key=lambda g: (g.integration_id, g.dedup_key),
    )
    if new_groups:
        inserted = _insert_returning_ids(
            session,
            GROUPS,
            [
                {
                    "integration_id": g.integration_id,
                    "dedup_key": g.dedup_key,
                    "ticket_id": None,
                    "title": g.title,
                    "severity": g.severity,
                    "host": g.host,
                    **g.values(),
                }
                for g in new_groups
            ],
        )
        for group, group_id in zip(new_groups, inserted, strict=True):
            group.id = group_id
            group.changed = group.opened is not None  # its ticket, once inserted
    for ticket in [*plan.opened, *plan.existing.values()]:
        ticket.settle()
        if ticket.group is not None and ticket.fields_changed:
            ticket.custom_fields["alert_group"] = ticket.group.id
    escalation_events, webhooks = _open_tickets(session, plan, batch)
    changed_groups = sorted(
        (g for g in plan.groups.values() if g is not None and g.changed),
        key=lambda g: g.id or 0,
    )
    _update_by_id(
        session,
        GROUPS,
        [
            {
                "row_id": g.id,
                "new_ticket_id": g.opened.id if g.opened is not None else g.ticket_id,
                **{f"new_{k}": v for k, v in g.values().items()},
            }
            for g in changed_groups
        ],
        _GROUP_UPDATE_VALUES,
    )
    _update_tickets(session, plan)
    events = [
        {
            "ticket_id": t.id,
            "at": plan.now,
            "actor_id": None,
            "kind": "created",
            "field": None,
            "old_value": None,
            "new_value": None,
            "note": "opened from alert",
            "minutes": None,
        }
        for t in plan.opened
    ]
    events += [
        {
            "ticket_id": t.id,
            "at": plan.now,
            "actor_id": None,
            "kind": kind,
            "field": None,
            "old_value": None,
            "new_value": None,
            "note": note,
            "minutes": None,
        }
        for t, kind, note in plan.notes
    ]
    events += escalation_events
    if events:
        session.execute(insert(EVENTS), events)
    if webhooks:
        session.execute(insert(WEBHOOKS), webhooks)
    # Their summaries are rewritten at the end of the transaction, once each.
    batch.changed.extend(
        session.get_one(AlertOutage, outage_id) for outage_id in sorted(plan.outages_changed)
    )


def _update_by_id(
    session: Session, table: Table, rows: list[dict[str, Any]], values: dict[str, Any]
) -> None:
    """One executemany UPDATE of the table's rows whose id each row gives as `row_id`;
    `values` maps columns to bound parameters (or constants)."""
    if rows:
        session.execute(update(table).where(table.c.id == bindparam("row_id")).values(values), rows)


def _insert_returning_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the rows in a few multi-row statements; their new ids, in the rows' order.

    PostgreSQL lines the RETURNING rows up with the parameters itself (SQLAlchemy's
    `sort_by_parameter_order`). SQLite cannot, and SQLAlchemy would then insert one row per
    statement; but SQLite gives each row of an INSERT the next rowid in VALUES order, and
    this transaction holds the database's only write lock, so the ids sorted are in the
    rows' order."""
    if session.get_bind().dialect.name == "postgresql":
        result = session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
        )
        return [row_id for (row_id,) in result]
    return sorted(
        row_id for (row_id,) in session.execute(insert(table).returning(table.c.id), rows)
    )


_GROUP_COLUMNS = (
    "ticket_id",
    "status",
    "count",
    "first_seen",
    "last_seen",
    "status_at",
    "resolved_at",
    "client_id",
    "site",
    "outage_id",
    "members",
)
_GROUP_UPDATE_VALUES: dict[str, Any] = {name: bindparam(f"new_{name}") for name in _GROUP_COLUMNS}


def _open_tickets(
    session: Session, plan: Plan, batch: Batch
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Insert the new tickets with their escalation decision (processing.Batch.finish's
    refresh) already applied; returns the history rows and PSA outbox rows that refresh
    writes."""
    if not plan.opened:
        return [], []
    escalation = batch.escalation(session)
    cache = batch.lookups.facts
    rows = []
    changes: list[
        tuple[PlannedTicket, dict[str, Any], list[str], dict[str, Any], list[str], str]
    ] = []
    for ticket in plan.opened:
        assert ticket.row is not None
        # The ticket as the refresh finds it: decided on a transient copy (never added to
        # the session), whose id the facts cache is told is fresh (no runbook run yet).
        mirrored = dict(ticket.custom_fields)
        tags: list[str] = ticket.row["tags"]
        probe = _transient(ticket.row, id=-1, custom_fields=mirrored)
        cache.fresh = {-1}
        try:
            decision = check_escalation(session, probe, escalation=escalation, cache=cache)
        finally:
            cache.fresh = set()
        fields = {**mirrored, ESCALATION_FIELD: "yes" if decision.allowed else "no"}
        new_tags = [t for t in tags if not t.lower().startswith(OWN_TAG_PREFIX)]
        if decision.allowed and decision.to:
            new_tags.append(f"{OWN_TAG_PREFIX}{decision.to}")
        changes.append((ticket, mirrored, tags, fields, new_tags, decision.rule))
        rows.append({**ticket.row, "custom_fields": fields, "tags": new_tags})
    inserted = _insert_returning_ids(session, TICKETS, rows)
    for ticket, ticket_id in zip(plan.opened, inserted, strict=True):
        ticket.id = ticket_id
    events: list[dict[str, Any]] = []
    webhooks: list[dict[str, Any]] = []
    for (ticket, old_fields, old_tags, fields, new_tags, rule), row in zip(
        changes, rows, strict=True
    ):
        note = f"escalation check: {rule}"
        for name, old, new in (("custom_fields", old_fields, fields), ("tags", old_tags, new_tags)):
            if old != new:
                events.append(
                    {
                        "ticket_id": ticket.id,
                        "at": plan.now,
                        "actor_id": None,
                        "kind": "changed",
                        "field": name,
                        "old_value": str(old),
                        "new_value": str(new),
                        "note": note,
                        "minutes": None,
                    }
                )
        # psa.outbox.record_ticket_change for a ticket nothing was sent about yet (the PSA
        # push of change_ticket concerns tickets imported from the PSA only, never these).
        current = snapshot(_transient(row, id=ticket.id))
        event_id = str(uuid.uuid4())
        webhooks.append(
            {
                "event_id": event_id,
                "ticket_id": ticket.id,
                "payload": {
                    "event_id": event_id,
                    "event": EVENT,
                    "occurred_at": plan.now.isoformat(),
                    "changes": {
                        name: {"old": None, "new": current[name]}
                        for name in TRACKED
                        if current[name] is not None
                    },
                    "ticket": current,
                },
                "created_at": plan.now,
                "next_attempt_at": plan.now,
            }
        )
    return events, webhooks


def _transient(row: dict[str, Any], **values: Any) -> Ticket:
    """A new ticket's columns as the attributes the escalation facts and the PSA snapshot
    read: a plain object, as building an ORM instance costs more than the check itself."""
    return cast(Ticket, SimpleNamespace(**{**row, "status": "new", "level": "L1", **values}))


def _update_tickets(session: Session, plan: Plan) -> None:
    """The existing tickets' mirrored counts and, where a note was added, updated_at; one
    executemany per shape of change."""
    fields_only, fields_and_time, time_only = [], [], []
    for ticket in plan.existing.values():
        if ticket.fields_changed and ticket.touched:
            fields_and_time.append(
                {"row_id": ticket.id, "new_fields": ticket.custom_fields, "new_at": plan.now}
            )
        elif ticket.fields_changed:
            fields_only.append({"row_id": ticket.id, "new_fields": ticket.custom_fields})
        elif ticket.touched:
            time_only.append({"row_id": ticket.id, "new_at": plan.now})
    fields: dict[str, Any] = {"custom_fields": bindparam("new_fields")}
    time: dict[str, Any] = {"updated_at": bindparam("new_at")}
    _update_by_id(session, TICKETS, fields_only, fields)
    _update_by_id(session, TICKETS, fields_and_time, {**fields, **time})
    _update_by_id(session, TICKETS, time_only, time)


def finish_parts(
    session: Session, parts: list[Part], batch: Batch, failures: Callable[[list[Any], int], str]
) -> None:
    """Record each part's progress on its item, and `done` on the finished ones: one
    executemany each."""
    now = utcnow()
    done, going = [], []
    for part in parts:
        if part.finished:
            batch.parsed.pop(part.id, None)
            failed = part.alert_errors or []
            done.append(
                {
                    "row_id": part.id,
                    "new_progress": part.end,
                    "new_processed_at": now,
                    "new_error": failures(failed, len(part.alerts)) if failed else None,
                }
            )
        else:
            batch.parsed[part.id] = part.alerts
            # The claim's lease runs from the last part done.
            going.append({"row_id": part.id, "new_progress": part.end, "new_claimed_at": now})
    progress: dict[str, Any] = {"progress": bindparam("new_progress")}
    _update_by_id(
        session,
        ITEMS,
        done,
        {
            **progress,
            "state": "done",
            "processed_at": bindparam("new_processed_at"),
            "error": bindparam("new_error"),
        },
    )
    _update_by_id(session, ITEMS, going, {**progress, "claimed_at": bindparam("new_claimed_at")})
