"""Load the demo MSP into the database: `franchise demo` calls `load_demo`.

The plan (pure data, see plan.py) is written through the domain services where they
exist, so tickets carry the same history a real ticket would; the owner's contacts,
the drill and the lessons have no service yet and are added as rows.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.ask.models import AskReply
from franchise.clients.models import Client, ClientContact, Endpoint
from franchise.clients.service import add_client
from franchise.contacts.models import OwnerContact
from franchise.db import utcnow
from franchise.demo import catalogue
from franchise.demo.companies import email_for
from franchise.demo.notices import write_notices
from franchise.demo.plan import build_plan
from franchise.demo.records import DemoPlan, ReviewPlan
from franchise.demo.walk import choose_answers, fill_inputs
from franchise.drills.items import open_missing_items
from franchise.drills.models import Drill, ReviewItem
from franchise.lessons.models import Lesson
from franchise.orgsettings.service import get_config, set_setting
from franchise.runbooks import service as runbooks
from franchise.runbooks.models import Runbook
from franchise.tickets.models import Ticket
from franchise.tickets.service import change_ticket, create_ticket


def load_demo(session: Session, *, seed: int = 7, now: datetime | None = None) -> dict[str, Any]:
    """Add the demo MSP unless it is already there; flushes, never commits."""
    if session.scalar(select(Client.id).where(Client.name == catalogue.CLIENTS[0].name)):
        return {"already_loaded": True, **_counts(session), "logins": logins()}
    plan = build_plan(seed=seed, now=now or utcnow())
    # The demo MSP is a UK business; its stories quote pounds and UK office hours.
    for key, value in (
        ("org_name", catalogue.MSP_NAME),
        ("currency", "GBP"),
        ("timezone", "Europe/London"),
        # A throwaway demo with printed passwords: asking its visitors to set up an
        # authenticator app before they can look around would protect nothing.
        ("require_mfa", "off"),
    ):
        set_setting(session, key, value)
    staff = {
        seat.key: add_staff(
            session,
            name=seat.name,
            email=seat.email,
            role=seat.role,
            level=seat.level,
            password=seat.password,
        )
        for seat in catalogue.STAFF
    }
    for member in staff.values():
        member.created_at = plan.week_starts[0]  # the team was there before the first ticket
    clients = _write_clients(session, plan)
    by_category = _runbooks_by_category(session)
    tickets = _write_tickets(session, plan, clients, staff, by_category)
    runs = _write_runs(session, plan, tickets, staff, by_category)
    contacts = _write_story(session, plan, tickets, staff, by_category)
    session.flush()
    return {
        "msp": catalogue.MSP_NAME,
        "seed": seed,
        "clients": len(clients),
        "endpoints": sum(len(c.endpoints) for c in plan.clients),
        "staff": len(staff),
        "tickets": len(tickets),
        "open_tickets": sum(t.resolved_at is None for t in plan.tickets),
        "runbook_runs": runs,
        "owner_contacts": contacts,
        "drills": 1,
        "lessons": len(plan.lessons),
        "logins": logins(),
    }


def logins() -> list[dict[str, str]]:
    return [
        {"role": s.role, "level": s.level, "email": s.email, "password": s.password}
        for s in catalogue.STAFF
    ]


def _counts(session: Session) -> dict[str, int]:
    def count(model: type[Any]) -> int:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)

    return {
        "clients": count(Client),
        "endpoints": count(Endpoint),
        "staff": count(Staff),
        "tickets": count(Ticket),
    }


def _runbooks_by_category(session: Session) -> dict[str, Runbook]:
    """The first live runbook of each category (by key), as the starter library has one each."""
    found: dict[str, Runbook] = {}
    for row in runbooks.list_runbooks(session, include_archived=False):
        found.setdefault(row.category, row)
    return found


def _write_clients(session: Session, plan: DemoPlan) -> list[Client]:
    clients = []
    for item in plan.clients:
        client = add_client(session, name=item.name, tier=item.tier, endpoints=len(item.endpoints))
        client.created_at = plan.week_starts[0]
        session.add_all(
            ClientContact(
                client_id=client.id,
                name=c.name,
                email=c.email,
                phone=c.phone,
                role=c.role,
                is_primary=c.is_primary,
            )
            for c in item.contacts
        )
        # Everyone else who raises tickets is on file too (as a PSA's contact list holds
        # every end user), with an address and no number: the identity check says so.
        named = {c.name for c in item.contacts}
        session.add_all(
            ClientContact(
                client_id=client.id,
                name=name,
                email=email_for(name, item.domain),
                role="Staff member",
            )
            for name in item.users
            if name not in named
        )
        session.add_all(
            Endpoint(
                client_id=client.id,
                hostname=e.hostname,
                kind=e.kind,
                os=e.os,
                last_seen_at=e.last_seen_at,
            )
            for e in item.endpoints
        )
        clients.append(client)
    return clients


def _write_tickets(
    session: Session,
    plan: DemoPlan,
    clients: list[Client],
    staff: dict[str, Staff],
    by_category: dict[str, Runbook],
) -> list[Ticket]:
    people = {
        (c.client_id, c.name): c.id
        for c in session.scalars(
            select(ClientContact).where(ClientContact.client_id.in_([c.id for c in clients]))
        )
    }
    tickets = []
    for item in plan.tickets:
        runbook = by_category.get(item.category)
        client_id = clients[item.client].id
        # A monitoring alert has no person behind it; everything else was raised by one.
        requester = None if item.source == "alert" else people.get((client_id, item.user))
        ticket = create_ticket(
            session,
            title=item.title,
            body=item.body,
            client=client_id,
            requester=requester,
            category=item.category,
            priority=item.priority,
            source=item.source,
            external_id=item.external_id,
            created_at=item.created_at,
            runbook_key=runbook.key if runbook else None,
        )
        for change in item.changes:
            fields: dict[str, Any] = {}
            if change.assignee:
                fields["assignee_id"] = staff[change.assignee].id
            if change.level:
                fields["level"] = change.level
            if change.status:
                fields["status"] = change.status
            actor = staff[change.actor] if change.actor else None
            change_ticket(session, ticket, actor=actor, note=change.note, at=change.at, **fields)
        # SLA timestamps: the tickets service has no call for them yet, so set them as the
        # workflow would when the ticket was answered, resolved and closed.
        ticket.first_response_at = item.first_response_at
        ticket.resolved_at = item.resolved_at
        ticket.closed_at = item.closed_at
        tickets.append(ticket)
    session.flush()
    return tickets


def _write_runs(
    session: Session,
    plan: DemoPlan,
    tickets: list[Ticket],
    staff: dict[str, Staff],
    by_category: dict[str, Runbook],
) -> int:
    """Walk the runbook on the tickets the plan marked, then date the run as it happened."""
    count = 0
    for item, ticket in zip(plan.tickets, tickets, strict=True):
        walk, row = item.walk, by_category.get(item.category)
        if walk is None or row is None:
            continue
        parsed = runbooks.definition(session, row)
        actor = staff[walk.actor]
        answers = choose_answers(
            parsed, random.Random(walk.seed), outcome=walk.outcome, level=walk.level
        )
        inputs = fill_inputs(parsed, dict(item.facts))
        run = runbooks.start_run(session, row, ticket=ticket, actor=actor, inputs=inputs)
        for step, option in answers:
            runbooks.answer_run(session, run, step=step, reply=option, actor=actor)
        # The services stamp the real clock; the demo run happened weeks ago.
        run.started_at = walk.started_at
        steps = runbooks.run_steps(session, run)
        # A few minutes per answer; the last one (the outcome) when the ticket moved on.
        span = (walk.ends_at - walk.started_at).total_seconds()
        pace = timedelta(seconds=min(span // max(len(steps), 1), 240))
        for n, step_row in enumerate(steps, start=1):
            step_row.at = walk.started_at + pace * n
        if steps:
            steps[-1].at = walk.ends_at
        if run.finished_at is not None:
            run.finished_at = walk.ends_at
        count += 1
    return count


def _write_story(
    session: Session,
    plan: DemoPlan,
    tickets: list[Ticket],
    staff: dict[str, Staff],
    by_category: dict[str, Runbook],
) -> int:
    """Owner contacts, the drill with its review, weekly reviews and lessons."""
    owner = staff["owner"]
    drill = Drill(
        starts_at=plan.drill.starts_at,
        ends_at=plan.drill.ends_at,
        ended_at=plan.drill.ended_at,
        emergency_criteria=plan.drill.criteria,
        created_by_id=owner.id,
        created_at=plan.drill.starts_at,
    )
    session.add(drill)
    session.flush()
    contacts = [
        OwnerContact(
            occurred_at=c.occurred_at,
            channel=c.channel,
            ticket_id=tickets[c.ticket].id if c.ticket is not None else None,
            staff_id=staff[c.staff].id,
            reason=c.reason,
            emergency=c.emergency,
            minutes=c.minutes,
            outcome=c.outcome,
            after_hours=c.after_hours,
            drill_id=drill.id if c.in_drill else None,
            question=c.question,
            answer=c.answer,
            created_at=c.occurred_at,
        )
        for c in plan.contacts
    ]
    session.add_all(contacts)
    session.flush()
    replies = _owner_replies(contacts, owner)
    session.add_all(replies)

    def review(item: ReviewPlan, drill_id: int | None) -> ReviewItem:
        contact = contacts[item.contact]
        return ReviewItem(
            drill_id=drill_id,
            week_start=item.week_start,
            contact_id=contact.id,
            ticket_id=contact.ticket_id,
            disposition=item.disposition,
            note=item.note,
            disposed_by_id=owner.id if item.disposition else None,
            disposed_at=item.disposed_at,
        )

    session.add_all(review(item, drill.id) for item in plan.drill.reviews)
    session.add_all(review(item, None) for item in plan.weekly_reviews)
    # The rest of the contacts' review items, as logging them one by one would have opened.
    session.flush()
    open_missing_items(session, get_config(session).tz)
    for lesson in plan.lessons:
        runbook = by_category.get(lesson.category)
        session.add(
            Lesson(
                ticket_id=tickets[lesson.ticket].id,
                runbook_id=runbook.id if runbook else None,
                text=lesson.text,
                author_id=staff[lesson.author].id,
                state=lesson.state,
                created_at=lesson.created_at,
                applied_at=lesson.applied_at,
            )
        )
    write_notices(session, plan, tickets, staff, contacts, replies)
    return len(contacts)


# The newest asks are left waiting, so the dashboard and their tickets show an ask to answer.
OPEN_ASKS = 2


def _owner_replies(contacts: list[OwnerContact], owner: Staff) -> list[AskReply]:
    """The owner's answers to the past asks that reached them, as replying in the app records
    them; without these every ask of the last eight weeks would wait on the dashboard."""
    asks = sorted(
        (c for c in contacts if c.outcome == "interruption" and c.question and c.answer),
        key=lambda c: c.occurred_at,
    )
    return [
        AskReply(
            contact_id=c.id,
            text=c.answer,
            replied_by_id=owner.id,
            replied_at=c.occurred_at + timedelta(minutes=max(c.minutes, 1)),
        )
        for c in asks[: max(len(asks) - OPEN_ASKS, 0)]
    ]
