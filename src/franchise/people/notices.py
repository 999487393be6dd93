"""Who hears of what: each hand-off queues notifications to the people it concerns.

An escalation goes to the person who now holds the ticket; an ask that reaches the owner to
the owner's own channels; the owner's reply to the technician who asked. Each person gets
e-mail (when SMTP is set up) and their Teams and Slack channels, all through the outbox, so
nothing is sent for work that rolls back, and every notice lands in their feed in the app
(feed.py), channels or not.
Approval notices build on these in approvals.notices.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.contacts.models import OwnerContact
from franchise.orgsettings.secrets import effective_settings
from franchise.outbox import service as outbox
from franchise.people import cards, feed
from franchise.people.cards import Button, Notice
from franchise.people.feed import ask_link, ticket_link
from franchise.people.outbound import KIND
from franchise.people.service import channels_of, issue_link, link_url
from franchise.settings import Settings
from franchise.tickets.models import Ticket
from franchise.wording import label

SETTINGS_KEY = "franchise_settings"


@dataclass(frozen=True)
class Queued:
    """One notification in the outbox: to whom, by which channel."""

    staff_id: int
    via: str
    item_id: int


def settings_of(session: Session) -> Settings:
    """The settings of the request or command that owns the session (web and CLI put them
    in `session.info`; else the environment's, as a process started without them reads),
    with those saved on the Settings page laid over them (the public address ...)."""
    found = session.info.get(SETTINGS_KEY)
    return effective_settings(session, found if isinstance(found, Settings) else Settings())


def smtp_ready(settings: Settings) -> bool:
    return bool(settings.smtp_host and settings.smtp_from)


def notify_person(
    session: Session,
    person: Staff,
    notice: Notice,
    *,
    ticket_id: int | None,
    settings: Settings,
    what: str,
    link: str | None = None,
) -> list[Queued]:
    """Queue the notice on every channel the person has; [] when they have none. `settings`
    are the effective ones (settings_of): whether SMTP and Slack buttons are set up. The
    notice is also put in the person's feed in the app, pointing to `link` (default: the
    ticket's page)."""
    feed.record(
        session, person.id, notice, ticket_id=ticket_id, link=link or ticket_link(ticket_id)
    )
    queued = []
    base = {"staff_id": person.id, "name": person.name, "what": what[:300]}
    if smtp_ready(settings) and person.email:
        payload = {
            **base,
            "via": "email",
            "to": person.email,
            "subject": notice.title[:200],
            "body": cards.email_body(notice, settings.action_link_minutes),
        }
        item = outbox.enqueue(session, KIND, payload, ticket_id=ticket_id, settings=settings)
        queued.append(Queued(person.id, "email", item.id))
    interactive = bool(settings.slack_signing_secret)
    for channel in channels_of(session, person.id):
        message = (
            cards.teams_message(notice)
            if channel.kind == "teams"
            else cards.slack_message(notice, interactive=interactive)
        )
        payload = {
            **base,
            "via": channel.kind,
            "url_sealed": channel.url_sealed,
            "message": message,
        }
        item = outbox.enqueue(session, KIND, payload, ticket_id=ticket_id, settings=settings)
        queued.append(Queued(person.id, channel.kind, item.id))
    return queued


def ticket_button(settings: Settings, ticket_id: int | None) -> tuple[Button, ...]:
    if ticket_id is None:
        return ()
    # Opening a ticket changes nothing and the page asks for sign-in: a plain link will do.
    return (Button("Open ticket", f"{settings.base_url}/tickets/{ticket_id}", "open"),)


def ticket_fact(session: Session, ticket_id: int | None) -> tuple[tuple[str, str], ...]:
    ticket = session.get(Ticket, ticket_id) if ticket_id is not None else None
    return (("Ticket", f"#{ticket.id} {ticket.title}"),) if ticket is not None else ()


def escalated_notice(
    ticket: Ticket,
    by: Staff,
    level: str,
    *,
    note: str | None = None,
    buttons: tuple[Button, ...] = (),
) -> Notice:
    text = f"{by.name} escalated '{ticket.title}' to {level}; you now hold it."
    if note:
        # What was found and tried: the first thing the new holder needs.
        text += f"\nHandover note: {note}"
    return Notice(
        title=f"Ticket #{ticket.id} escalated to you",
        text=text,
        facts=(("Priority", label(ticket.priority)), ("Status", label(ticket.status))),
        buttons=buttons,
    )


def escalated(
    session: Session,
    ticket: Ticket,
    holder: Staff,
    by: Staff,
    level: str,
    *,
    note: str | None = None,
) -> list[Queued]:
    settings = settings_of(session)
    notice = escalated_notice(
        ticket, by, level, note=note, buttons=ticket_button(settings, ticket.id)
    )
    return notify_person(
        session,
        holder,
        notice,
        ticket_id=ticket.id,
        settings=settings,
        what=f"escalated to {level}",
    )


def owners(session: Session) -> list[Staff]:
    return list(
        session.scalars(
            select(Staff).where(Staff.active, Staff.level == "owner").order_by(Staff.id)
        )
    )


def ask_reached_owner(
    session: Session,
    contact: OwnerContact,
    *,
    ticket: Ticket,
    by: Staff,
    title: str,
    body: str,
    settings: Settings,
) -> list[Queued]:
    settings = effective_settings(session, settings)
    queued: list[Queued] = []
    for owner in owners(session):
        token = issue_link(
            session,
            owner,
            action="answer",
            target_kind="ask",
            target_id=contact.id,
            settings=settings,
        )
        notice = Notice(
            title=title,
            text=body,
            facts=(("Asked by", f"{by.name} ({by.level})"), *ticket_fact(session, ticket.id)),
            buttons=(
                Button("Answer", link_url(settings, token), "answer"),
                *ticket_button(settings, ticket.id),
            ),
        )
        queued += notify_person(
            session,
            owner,
            notice,
            ticket_id=ticket.id,
            settings=settings,
            what=f"ask #{contact.id}",
            link=ask_link(contact.id),
        )
    return queued


def owner_replied_notice(
    session: Session, contact: OwnerContact, text: str, *, buttons: tuple[Button, ...] = ()
) -> Notice:
    return Notice(
        title=f"The owner answered your question (ask #{contact.id})",
        text=text,
        facts=(
            ("You asked", (contact.question or "")[:500]),
            *ticket_fact(session, contact.ticket_id),
        ),
        buttons=buttons,
    )


def owner_replied(session: Session, contact: OwnerContact, by: Staff, text: str) -> list[Queued]:
    # The ask is answered: its notices to the owner (and an admin) need nobody any more.
    feed.settle(session, ask_link(contact.id))
    asker = session.get(Staff, contact.staff_id) if contact.staff_id else None
    if asker is None or asker.id == by.id:
        return []
    settings = settings_of(session)
    notice = owner_replied_notice(
        session, contact, text, buttons=ticket_button(settings, contact.ticket_id)
    )
    return notify_person(
        session,
        asker,
        notice,
        ticket_id=contact.ticket_id,
        settings=settings,
        what=f"the owner's answer to ask #{contact.id}",
    )


def channel_names(queued: Iterable[Queued]) -> list[str]:
    return sorted({q.via for q in queued})
