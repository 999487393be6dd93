"""The owner answers an ask: on the ticket, back to the asker, offered as a lesson."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from franchise.ask.reply import open_asks, reply_to_ask, ticket_asks
from franchise.ask.service import ask_owner
from franchise.errors import Conflict, PermissionDenied
from franchise.lessons.models import Lesson
from franchise.settings import Settings
from franchise.tickets.models import Ticket
from franchise.tickets.service import history
from tests.ask.fixtures import Team

TUESDAY = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


NAS = """\
format: 2
key: nas-retire
title: Old NAS failing
category: backup
status: validated
start: still-needed
steps:
  still-needed:
    kind: check
    text: Does the client still use the NAS?
    options: {"Yes": to-l2, "No or not sure": to-l2}
  to-l2: {kind: escalate, to: L2, text: L2 agrees the retirement with the client.}
"""


def _escalated_ticket(session: Session, team: Team, make_ticket: Callable[..., Ticket]) -> Ticket:
    from franchise.flows.runs import begin_run, record_answer
    from franchise.runbooks import service as runbooks

    runbooks.save_runbook(session, NAS, file="nas.yaml")
    ticket = make_ticket("Old NAS keeps failing backups", category="backup")
    run = begin_run(
        session, runbooks.get_runbook(session, "nas-retire"), ticket=ticket, actor=team.bo
    )
    record_answer(session, run, step="still-needed", reply="Yes", actor=team.bo)
    return ticket


def _ask(session: Session, team: Team, ticket: Ticket, settings: Settings) -> int:
    result = ask_owner(
        session,
        ticket=ticket,
        by=team.bo,
        reason="technical_decision",
        question="The client wants us to keep the old NAS running; do we charge for it?",
        now=TUESDAY,
        settings=settings,
    )
    assert result.outcome == "interruption", result.answer.text
    return result.contact_id


def test_the_owner_replies_and_the_answer_becomes_a_lesson(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    ticket = _escalated_ticket(session, team, make_ticket)
    ask_id = _ask(session, team, ticket, settings)
    assert [a.id for a in open_asks(session)] == [ask_id]
    assert [a.id for a in open_asks(session, ticket_id=ticket.id + 1)] == []
    (waiting,) = ticket_asks(session, ticket.id)
    assert (waiting.id, waiting.asker, waiting.answer) == (ask_id, team.bo.name, None)
    reply = reply_to_ask(session, ask_id, by=team.olivia, text="Yes: quote 2 hours a month.")
    assert open_asks(session) == []
    # The ticket page keeps the ask, now with its answer and who gave it.
    (answered,) = ticket_asks(session, ticket.id)
    assert (answered.answer, answered.answered_by) == (
        "Yes: quote 2 hours a month.",
        "Olivia Owner",
    )
    assert ticket_asks(session, ticket.id + 1) == []
    notes = [e.note for e in history(session, ticket) if e.kind == "owner-reply"]
    assert notes == ["The owner answered: Yes: quote 2 hours a month."]
    lesson = session.get(Lesson, reply.lesson_id)
    assert lesson is not None and lesson.state == "pending"
    assert "The owner answered: Yes: quote 2 hours a month." in lesson.text
    with pytest.raises(Conflict, match="already answered"):
        reply_to_ask(session, ask_id, by=team.olivia, text="again")


def test_only_the_owner_or_an_admin_replies(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    ticket = _escalated_ticket(session, team, make_ticket)
    ask_id = _ask(session, team, ticket, settings)
    with pytest.raises(PermissionDenied, match="only the owner"):
        reply_to_ask(session, ask_id, by=team.ana, text="I think yes")


def test_a_ticket_no_runbook_covers_gets_a_lesson_asking_for_a_new_runbook(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    ticket = make_ticket("Teams keeps crashing on the reception PC")
    ask_id = _ask(session, team, ticket, settings)
    reply = reply_to_ask(session, ask_id, by=team.olivia, text="Reinstall the new Teams client.")
    assert any(e.kind == "owner-reply" for e in history(session, ticket))
    # The owner's answer is not lost: it waits as a lesson saying a runbook is missing.
    assert reply.new_runbook is True
    assert reply.to_dict()["new_runbook"] is True
    lesson = session.get(Lesson, reply.lesson_id)
    assert lesson is not None
    assert (lesson.runbook_id, lesson.ticket_id, lesson.state) == (None, ticket.id, "pending")
    assert lesson.author_id == team.olivia.id
    assert "The owner answered: Reinstall the new Teams client." in lesson.text
    assert "No runbook covers this ticket: write one for tickets like it" in lesson.text


def test_a_reply_on_a_ticket_with_a_runbook_offers_a_lesson_for_that_runbook(
    session: Session, team: Team, make_ticket: Callable[..., Ticket], settings: Settings
) -> None:
    ticket = _escalated_ticket(session, team, make_ticket)
    reply = reply_to_ask(
        session, _ask(session, team, ticket, settings), by=team.olivia, text="Quote it."
    )
    assert (reply.new_runbook, reply.to_dict()["new_runbook"]) == (False, False)
    lesson = session.get(Lesson, reply.lesson_id)
    assert lesson is not None and lesson.runbook_id is not None
    assert "Turn this into a runbook step" in lesson.text
