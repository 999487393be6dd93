"""What the approvals page tells about a request: money in the organisation's currency, the
ticket and client, the requester's name and words, and who decided it and why."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.approvals import service
from franchise.approvals.details import approval_details, cost_label, money
from franchise.approvals.models import ApprovalRequest
from franchise.clients.service import add_client
from franchise.contacts.models import OwnerContact
from franchise.tickets.models import Ticket
from franchise.tickets.service import add_note, create_ticket
from tests.approvals.conftest import NOW


def ask(session: Session, ticket: Ticket | None, who: Staff, **kw: object) -> ApprovalRequest:
    args: dict[str, object] = {"action": "do it", "cost": 0, "minutes": 10, "impact": "none"}
    args.update(kw)
    return service.request_approval(session, ticket=ticket, requester=who, now=NOW, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "recurring", "currency", "text"),
    [
        ("18", "month", "GBP", "£18.00/month (£216.00 a year)"),
        ("480", "year", "EUR", "€480.00/year"),
        ("1200.5", "once", "USD", "$1,200.50"),
        ("99", "once", "CHF", "99.00 CHF"),
        ("0", "month", "GBP", "No cost"),
    ],
)
def test_costs_read_as_money_with_how_often_they_are_paid(
    amount: str, recurring: str, currency: str, text: str
) -> None:
    assert cost_label(Decimal(amount), recurring, currency) == text


def test_an_unknown_currency_code_follows_the_amount_in_capitals() -> None:
    assert money(Decimal("7"), "sek") == "7.00 SEK"


def test_the_card_names_ticket_client_and_requester_and_the_denial_reason(
    session: Session, team: dict[str, Staff]
) -> None:
    add_client(session, name="Acme Dental")
    ticket = create_ticket(session, title="Printer fuser failed", client="Acme Dental")
    request = ask(session, ticket, team["l1"], cost="1200", action="Engineer call-out")
    # The decider's words may run over lines; they are all kept.
    service.decide(
        session,
        request,
        by=team["owner"],
        approve=False,
        reason="Too dear.\nOrder the part and fit it ourselves",
        now=NOW + timedelta(minutes=5),
    )
    (card,) = approval_details(session, [request], "GBP")
    assert (card.ticket_title, card.client) == ("Printer fuser failed", "Acme Dental")
    assert card.requester == "tom"  # the staff member's name, not their e-mail
    assert card.cost == "£1,200.00"
    assert card.why_asked.startswith("cost 1200 exceeds")
    assert card.decided_by == "boss"
    assert card.decision_reason == "Too dear.\nOrder the part and fit it ourselves"


def test_the_deciders_words_are_kept_apart_and_older_requests_still_read_from_the_reason(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    # Words that look like the service's own "denied by ..." line are still only words.
    tricky = "Fine.\ndenied by someone@else.example: no, only quoting the old rule"
    request = ask(session, ticket, team["l1"], cost="1200")
    service.decide(session, request, by=team["owner"], approve=True, reason=tricky, now=NOW)
    assert request.decision_note == tricky
    assert approval_details(session, [request], "USD")[0].decision_reason == tricky
    # Decided before the note had its own column: read from the end of the reason.
    older = ask(session, ticket, team["l1"], cost="1300")
    service.decide(session, older, by=team["owner"], approve=False, reason="Not now", now=NOW)
    older.decision_note = None
    session.flush()
    assert approval_details(session, [older], "USD")[0].decision_reason == "Not now"


def test_policy_decisions_say_so_and_a_timeout_gives_its_line(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    inside = ask(session, ticket, team["l1"], cost="10")
    outside = ask(session, ticket, team["l1"], cost="250")
    service.expire_pending(session, NOW + timedelta(minutes=121))
    service.expire_pending(session, NOW + timedelta(minutes=250))
    first, second = approval_details(session, [inside, outside], "USD")
    assert (first.decided_by, first.decision_reason) == ("boundary", None)
    assert second.decided_by == "timeout"
    assert second.decision_reason is not None
    assert "denied (nobody above the owner)" in second.decision_reason


def test_the_note_is_the_ask_question_or_else_the_latest_ticket_note_before_the_decision(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    tom = team["l1"]
    for text, minutes in (("Old note", -60), ("Latest before", -5), ("Written after", 30)):
        event = add_note(session, ticket, actor=tom, kind="note", note=text)
        event.at = NOW + timedelta(minutes=minutes)
    add_note(session, ticket, actor=team["l2"], kind="note", note="Someone else's note")
    request = ask(session, ticket, tom, cost="250")
    service.decide(
        session, request, by=team["l2"], approve=True, reason="ok", now=NOW + timedelta(minutes=10)
    )
    (card,) = approval_details(session, [request], "USD")
    assert card.note is not None
    assert (card.note.text, card.note.source) == ("Latest before", "note")

    # An ask that made the request: its question is what the requester said.
    asked = ask(session, ticket, tom, cost="300", action="Buy a replacement SSD")
    session.add(
        OwnerContact(
            occurred_at=NOW,
            channel="in_app",
            ticket_id=ticket.id,
            staff_id=tom.id,
            reason="approval",
            outcome="interruption",
            question="The SSD is failing SMART checks; may I order a new one for 300?",
        )
    )
    session.flush()
    (card,) = approval_details(session, [asked], "USD")
    assert card.note is not None
    assert card.note.source == "ask"
    assert card.note.text.startswith("The SSD is failing")


def test_a_request_without_ticket_or_run_still_reads(
    session: Session, team: dict[str, Staff]
) -> None:
    request = ask(session, None, team["l1"], cost="250")
    (card,) = approval_details(session, [request], "GBP")
    assert (card.ticket_title, card.client, card.runbook_title, card.note) == (
        None,
        None,
        None,
        None,
    )
    assert card.inputs == ()
    assert approval_details(session, [], "GBP") == []
