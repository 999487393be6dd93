"""Definition of done, resolving, status and assignment, and time-in-status from history."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.bootstrap import initialise
from franchise.errors import InvalidInput, PermissionDenied, Refused
from franchise.runbooks import service as runbooks
from franchise.tickets import lifecycle
from franchise.tickets.models import Ticket
from franchise.tickets.service import create_ticket, history

CERT_PATH = [
    ("scope", "Only this user"),
    ("client-error", "Certificate invalid, expired or not found"),
    ("renew-certificate", "User connected"),
]


@pytest.fixture
def l1(session: Session) -> Staff:
    return add_staff(session, name="Lia", email="lia@example.com", role="technician", level="L1")


@pytest.fixture
def l2(session: Session) -> Staff:
    return add_staff(session, name="Max", email="max@example.com", role="technician", level="L2")


@pytest.fixture
def vpn_ticket(session: Session, l1: Staff) -> Ticket:
    initialise(session)
    ticket = create_ticket(session, title="VPN certificate expired", category="vpn")
    run = runbooks.start_run(session, runbooks.get_runbook(session, "vpn"), ticket=ticket, actor=l1)
    for step, answer in CERT_PATH:
        runbooks.answer_run(session, run, step=step, reply=answer, actor=l1)
    return ticket


def test_resolve_is_refused_until_the_done_list_is_ticked(
    session: Session, vpn_ticket: Ticket, l1: Staff
) -> None:
    done = lifecycle.done_list(session, vpn_ticket)
    assert done.runbook == "vpn-auth-failure"
    assert len(done.items) == 5
    with pytest.raises(Refused, match="missing: Root cause and fix recorded in the ticket"):
        lifecycle.resolve_ticket(session, vpn_ticket, by=l1)
    for number in range(1, len(done.items) + 1):
        lifecycle.check_item(session, vpn_ticket, str(number), by=l1)
    lifecycle.resolve_ticket(session, vpn_ticket, by=l1)
    assert vpn_ticket.status == "resolved"
    assert vpn_ticket.resolved_at is not None
    kinds = [e.kind for e in history(session, vpn_ticket)]
    assert kinds.count("done-checked") == 5


def test_items_are_matched_by_number_text_or_unique_prefix(
    session: Session, vpn_ticket: Ticket, l1: Staff
) -> None:
    lifecycle.check_item(session, vpn_ticket, "tunnel stable", by=l1)
    lifecycle.check_item(session, vpn_ticket, "USER CONFIRMED THE FIX", by=l1)
    assert lifecycle.done_list(session, vpn_ticket).checked == (
        "Tunnel stable for 15 minutes",
        "User confirmed the fix",
    )
    with pytest.raises(InvalidInput, match="not one of the done items"):
        lifecycle.check_item(session, vpn_ticket, "coffee", by=l1)


def test_only_l2_or_above_may_override_and_the_reason_is_recorded(
    session: Session, vpn_ticket: Ticket, l1: Staff, l2: Staff
) -> None:
    with pytest.raises(PermissionDenied):
        lifecycle.resolve_ticket(session, vpn_ticket, by=l1, override_reason="user went home")
    lifecycle.resolve_ticket(
        session, vpn_ticket, by=l2, override_reason="user went home; confirmed by phone"
    )
    notes = [e.note for e in history(session, vpn_ticket) if e.kind == "done-override"]
    assert len(notes) == 1
    assert "user went home; confirmed by phone" in (notes[0] or "")


def test_ticket_without_a_run_resolves_without_a_checklist(session: Session, l1: Staff) -> None:
    ticket = create_ticket(session, title="Question about invoice")
    with pytest.raises(InvalidInput, match="has not run a runbook"):
        lifecycle.check_item(session, ticket, "1", by=l1)
    lifecycle.resolve_ticket(session, ticket, by=l1)
    assert ticket.status == "resolved"


def test_status_cannot_skip_the_resolve_gate(session: Session, l1: Staff) -> None:
    ticket = create_ticket(session, title="x")
    with pytest.raises(InvalidInput, match="use resolve"):
        lifecycle.set_status(session, ticket, "resolved", by=l1)
    lifecycle.assign(session, ticket, l1, by=l1)
    assert (ticket.assignee_id, ticket.status) == (l1.id, "in_progress")


def test_a_runbook_never_started_needs_the_reason_it_was_not_run(
    session: Session, l1: Staff
) -> None:
    initialise(session)
    ticket = create_ticket(
        session, title="VPN cert", category="vpn", runbook_key="vpn-auth-failure"
    )
    assert lifecycle.never_run(session, ticket) == "vpn-auth-failure"
    with pytest.raises(
        Refused, match="follows runbook 'vpn-auth-failure', which was never started"
    ):
        lifecycle.resolve_ticket(session, ticket, by=l1)
    with pytest.raises(Refused, match="never started"):
        lifecycle.resolve_ticket(session, ticket, by=l1, skip_reason="   ")
    assert ticket.status == "new"
    lifecycle.resolve_ticket(session, ticket, by=l1, skip_reason="Client fixed it before we called")
    assert ticket.status == "resolved"
    [note] = [e for e in history(session, ticket) if e.kind == "runbook_skipped"]
    assert (
        note.note == "resolved without running vpn-auth-failure: Client fixed it before we called"
    )
    assert note.actor_id == l1.id


def test_a_run_stopped_before_any_ending_needs_the_reason_the_ticket_is_done(
    session: Session, l1: Staff
) -> None:
    """The done list of a run halfway holds only the runbook's general items: ticking them
    must not resolve past the ending's own checks without anyone saying why."""
    initialise(session)
    ticket = create_ticket(session, title="VPN certificate expired", category="vpn")
    run = runbooks.start_run(session, runbooks.get_runbook(session, "vpn"), ticket=ticket, actor=l1)
    step, answer = CERT_PATH[0]
    runbooks.answer_run(session, run, step=step, reply=answer, actor=l1)
    assert lifecycle.stopped_run(session, ticket) == ("vpn-auth-failure", CERT_PATH[1][0])
    for number in range(1, len(lifecycle.done_list(session, ticket).items) + 1):
        lifecycle.check_item(session, ticket, str(number), by=l1)
    with pytest.raises(Refused, match="stopped at step 'client-error' before any ending"):
        lifecycle.resolve_ticket(session, ticket, by=l1)
    lifecycle.resolve_ticket(session, ticket, by=l1, skip_reason="User's laptop replaced today")
    assert ticket.status == "resolved"
    notes = [e.note for e in history(session, ticket) if e.kind == "runbook_skipped"]
    assert notes == [
        "resolved with vpn-auth-failure stopped at step client-error: User's laptop replaced today"
    ]


def test_a_finished_run_needs_no_such_reason(
    session: Session, vpn_ticket: Ticket, l1: Staff
) -> None:
    assert lifecycle.stopped_run(session, vpn_ticket) is None


def test_a_ticket_without_a_runbook_resolves_without_a_reason(session: Session, l1: Staff) -> None:
    ticket = create_ticket(session, title="Question about invoices")
    assert lifecycle.never_run(session, ticket) is None
    lifecycle.resolve_ticket(session, ticket, by=l1)
    assert ticket.status == "resolved"


def test_a_resolved_ticket_is_reopened_with_its_done_list_to_tick_again(
    session: Session, vpn_ticket: Ticket, l1: Staff
) -> None:
    with pytest.raises(InvalidInput, match="only a finished ticket can be reopened"):
        lifecycle.reopen(session, vpn_ticket, by=l1)
    for number in range(1, 6):
        lifecycle.check_item(session, vpn_ticket, str(number), by=l1)
    lifecycle.resolve_ticket(session, vpn_ticket, by=l1)
    with pytest.raises(InvalidInput, match="longer than 5000"):
        lifecycle.reopen(session, vpn_ticket, by=l1, reason="x" * 5001)
    assert lifecycle.reopen(session, vpn_ticket, by=l1, reason="  Drops again  ") == "new"
    assert (vpn_ticket.status, vpn_ticket.resolved_at) == ("new", None)
    events = history(session, vpn_ticket)
    [reopened] = [e for e in events if e.kind == "reopened"]
    assert (reopened.note, reopened.actor_id) == ("Drops again", l1.id)
    assert [(e.old_value, e.new_value) for e in events if e.field == "status"][-1] == (
        "resolved",
        "new",
    )
    # The earlier ticks stay in the history; resolving again needs the list ticked afresh.
    assert lifecycle.done_list(session, vpn_ticket).checked == ()
    with pytest.raises(Refused, match="tick the done list"):
        lifecycle.resolve_ticket(session, vpn_ticket, by=l1)


def test_a_held_ticket_is_reopened_in_progress(session: Session, l1: Staff) -> None:
    ticket = create_ticket(session, title="Printer jam")
    lifecycle.assign(session, ticket, l1, by=l1)
    lifecycle.resolve_ticket(session, ticket, by=l1)
    assert lifecycle.reopen(session, ticket, by=l1) == "in_progress"
    assert ticket.status == "in_progress"
    [reopened] = [e for e in history(session, ticket) if e.kind == "reopened"]
    assert reopened.note == ""
