"""Changing a ticket's requester by hand: only a contact of its client, only by the people
answerable for the ticket, with a history line; the identity check follows the change."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.bootstrap import initialise
from franchise.clients.contacts import ContactFields, add_contact
from franchise.clients.models import ClientContact
from franchise.clients.service import add_client
from franchise.errors import InvalidInput, NotFound, PermissionDenied
from franchise.flows.runs import begin_run, record_answer, runner_view
from franchise.runbooks import service as runbooks
from franchise.tickets.lifecycle import assign
from franchise.tickets.models import Ticket
from franchise.tickets.requester import change_requester, may_change_requester
from franchise.tickets.service import create_ticket, history


@dataclass
class Harbour:
    ticket: Ticket
    dana: ClientContact
    sam: ClientContact
    jo: ClientContact  # a contact of another client


def _harbour(session: Session) -> Harbour:
    harbour = add_client(session, name="Harbour Dental")
    dana = add_contact(
        session, harbour, ContactFields(name="Dana", email="dana@h.example", phone="0161 555 0101")
    )
    sam = add_contact(
        session, harbour, ContactFields(name="Sam", email="sam@h.example", mobile="07700 900456")
    )
    acme = add_client(session, name="Acme Legal")
    jo = add_contact(session, acme, ContactFields(name="Jo", email="jo@acme.example"))
    ticket = create_ticket(session, title="Locked out", client=harbour.id, requester=dana.id)
    return Harbour(ticket, dana, sam, jo)


def _staff(session: Session, name: str, role: str = "technician", level: str = "L1") -> Staff:
    return add_staff(session, name=name, email=f"{name.lower()}@x.example", role=role, level=level)


def _requester_events(session: Session, ticket: Ticket) -> list[tuple[str | None, ...]]:
    return [
        (e.old_value, e.new_value, str(e.actor_id), e.note)
        for e in history(session, ticket)
        if e.field == "requester"
    ]


def test_the_assignee_changes_the_requester_and_the_history_says_who_from_and_to(
    session: Session,
) -> None:
    h = _harbour(session)
    tess = _staff(session, "Tess")
    assign(session, h.ticket, tess, by=tess)
    event = change_requester(session, h.ticket, h.sam.id, actor=tess, note="Sam rang in")
    assert event is not None
    assert h.ticket.requester_id == h.sam.id
    assert _requester_events(session, h.ticket) == [("Dana", "Sam", str(tess.id), "Sam rang in")]
    # By e-mail or by name too; back to Dana, then cleared.
    change_requester(session, h.ticket, "DANA@h.example", actor=tess)
    change_requester(session, h.ticket, None, actor=tess)
    assert h.ticket.requester_id is None
    assert _requester_events(session, h.ticket)[1:] == [
        ("Sam", "Dana", str(tess.id), None),
        ("Dana", None, str(tess.id), None),
    ]


def test_the_same_requester_again_writes_nothing(session: Session) -> None:
    h = _harbour(session)
    before = len(history(session, h.ticket))
    assert change_requester(session, h.ticket, h.dana.id, actor=None) is None
    assert len(history(session, h.ticket)) == before


def test_another_clients_contact_is_refused_with_whose_it_is(session: Session) -> None:
    h = _harbour(session)
    owner = _staff(session, "Olivia", role="owner", level="owner")
    with pytest.raises(InvalidInput) as refused:
        change_requester(session, h.ticket, h.jo.id, actor=owner)
    assert refused.value.message == (
        f"contact #{h.jo.id} (Jo) belongs to Acme Legal, not to Harbour Dental, "
        f"the client of ticket #{h.ticket.id}"
    )
    # By e-mail the other client's contact is simply not one of this client's.
    with pytest.raises(NotFound, match="client 'Harbour Dental' has no contact 'jo@acme"):
        change_requester(session, h.ticket, "jo@acme.example", actor=owner)
    assert h.ticket.requester_id == h.dana.id
    assert _requester_events(session, h.ticket) == []


def test_a_ticket_without_a_client_takes_no_requester(session: Session) -> None:
    h = _harbour(session)
    loose = create_ticket(session, title="Printer")
    with pytest.raises(InvalidInput, match=f"ticket #{loose.id} has no client; set its client"):
        change_requester(session, loose, h.dana.id, actor=None)
    assert loose.requester_id is None


@pytest.mark.parametrize(
    ("role", "level", "assigned", "allowed"),
    [
        ("technician", "L1", False, False),
        ("technician", "L1", True, True),
        ("technician", "L2", False, True),
        ("service_manager", "L1", False, True),
        ("owner", "owner", False, True),
        ("admin", "L1", False, True),
    ],
)
def test_only_the_assignee_l2_and_managers_may_change_it(
    session: Session, role: str, level: str, assigned: bool, allowed: bool
) -> None:
    h = _harbour(session)
    member = _staff(session, "Pat", role=role, level=level)
    if assigned:
        assign(session, h.ticket, member, by=None)
    assert may_change_requester(member, h.ticket) is allowed
    if allowed:
        change_requester(session, h.ticket, h.sam.id, actor=member)
        assert h.ticket.requester_id == h.sam.id
        return
    with pytest.raises(PermissionDenied) as refused:
        change_requester(session, h.ticket, h.sam.id, actor=member)
    assert refused.value.message == (
        "only the ticket's assignee, L2, the owner, an admin or a service manager may "
        f"change the requester of ticket #{h.ticket.id}"
    )
    assert h.ticket.requester_id == h.dana.id
    assert _requester_events(session, h.ticket) == []


def test_another_l1_than_the_assignee_is_refused(session: Session) -> None:
    h = _harbour(session)
    tess, other = _staff(session, "Tess"), _staff(session, "Omar")
    assign(session, h.ticket, tess, by=None)
    with pytest.raises(PermissionDenied):
        change_requester(session, h.ticket, h.sam.id, actor=other)


def test_the_identity_check_shows_the_new_requesters_number(session: Session) -> None:
    initialise(session)
    h = _harbour(session)
    run = begin_run(
        session, runbooks.get_runbook(session, "account-lockout"), ticket=h.ticket, actor=None
    )
    view = runner_view(session, run)
    for _ in range(10):
        if runbooks.run_state(session, run).step.used_from == "verify-identity":
            break
        nxt = view["next"]
        record_answer(session, run, step=nxt["step"], reply=nxt["options"][0], actor=None)
        view = runner_view(session, run)
    assert view["next"]["on_file"]["text"] == "Number on file for Dana: 0161 555 0101"
    change_requester(session, h.ticket, "Sam", actor=None)
    assert runner_view(session, run)["next"]["on_file"] == {
        "name": "Sam",
        "phones": ["07700 900456"],
        "text": "Number on file for Sam: 07700 900456",
    }
