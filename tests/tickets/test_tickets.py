from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.service import add_staff
from franchise.clients.service import add_client
from franchise.errors import Conflict, InvalidInput, NotFound
from franchise.queue.service import list_tickets
from franchise.tickets import service
from franchise.tickets.models import Ticket


def test_new_ticket_has_a_created_event_and_links_its_client(session: Session) -> None:
    client = add_client(session, name="Harbour Dental", tier="premium")
    ticket = service.create_ticket(session, title="VPN down", client="harbour dental", source="api")
    assert ticket.client_id == client.id
    assert (ticket.status, ticket.level, ticket.priority) == ("new", "L1", "normal")
    events = service.history(session, ticket)
    assert [(e.kind, e.note) for e in events] == [("created", "opened from api")]


def test_every_changed_field_is_recorded_with_who_and_old_and_new(session: Session) -> None:
    tech = add_staff(session, name="Tia", email="tia@example.com", role="technician", level="L1")
    ticket = service.create_ticket(session, title="Printer jam")
    events = service.change_ticket(
        session, ticket, actor=tech, status="in_progress", assignee_id=tech.id, priority="normal"
    )
    assert {(e.field, e.old_value, e.new_value) for e in events} == {
        ("status", "new", "in_progress"),
        ("assignee_id", None, str(tech.id)),
    }
    assert all(e.actor_id == tech.id for e in events)
    assert len(service.history(session, ticket)) == 3


def test_unknown_status_priority_category_and_client_are_refused(session: Session) -> None:
    with pytest.raises(InvalidInput, match="priority 'urgent'"):
        service.create_ticket(session, title="x", priority="urgent")
    with pytest.raises(InvalidInput, match="category 'hr'"):
        service.create_ticket(session, title="x", category="hr")
    with pytest.raises(NotFound, match="no client 'Acme'"):
        service.create_ticket(session, title="x", client="Acme")
    ticket = service.create_ticket(session, title="x")
    with pytest.raises(InvalidInput, match="status 'done'"):
        service.change_ticket(session, ticket, actor=None, status="done")


def test_list_filters_by_status_category_and_search(session: Session) -> None:
    a = service.create_ticket(
        session, title="Outlook quarantine release", category="email-quarantine"
    )
    b = service.create_ticket(session, title="Disk C full on SRV-FS01", category="disk-space")
    service.change_ticket(session, b, actor=None, status="resolved")
    assert [t.id for t in list_tickets(session, status="resolved")] == [b.id]
    assert [t.id for t in list_tickets(session, category="email-quarantine")] == [a.id]
    assert [t.id for t in list_tickets(session, search="srv-fs01")] == [b.id]


def test_ticket_reference_must_be_a_number(session: Session) -> None:
    with pytest.raises(InvalidInput, match="not a ticket number"):
        service.get_ticket(session, "abc")
    with pytest.raises(NotFound, match="#999999"):
        service.get_ticket(session, "#999999")


def test_a_second_create_with_the_same_external_id_is_a_conflict(session: Session) -> None:
    service.create_ticket(session, title="From the PSA", source="api", external_id="PSA-1")
    with pytest.raises(Conflict, match="external id 'PSA-1' already exists"):
        service.create_ticket(session, title="Retry", source="api", external_id=" PSA-1 ")
    # The same id from another source is another ticket; an empty id is no id.
    service.create_ticket(session, title="From e-mail", source="email", external_id="PSA-1")
    service.create_ticket(session, title="a", source="api", external_id="")
    service.create_ticket(session, title="b", source="api", external_id="")


def test_views_open_status_and_ticket_number_search(session: Session) -> None:
    tech = add_staff(session, name="Vi", email="vi@example.com", role="technician", level="L1")
    mine = service.create_ticket(session, title="Mine")
    service.change_ticket(session, mine, actor=tech, assignee_id=tech.id)
    loose = service.create_ticket(session, title="Nobody's")
    done = service.create_ticket(session, title="Finished")
    service.change_ticket(session, done, actor=None, status="resolved")
    up = service.create_ticket(session, title="Gone up")
    service.change_ticket(session, up, actor=None, status="escalated")

    def ids(**filters: object) -> set[int]:
        return {t.id for t in list_tickets(session, **filters)}  # type: ignore[arg-type]

    assert ids(view="mine", staff_id=tech.id) == {mine.id}
    assert ids(view="unassigned", status="open") == {loose.id, up.id}
    assert ids(view="escalated") == {up.id}
    assert done.id not in ids(status="open")
    assert done.id in ids(status="any")
    assert ids(search=f"#{loose.id}") == {loose.id}
    with pytest.raises(InvalidInput, match="unknown view 'team'"):
        list_tickets(session, view="team")


def test_runbook_ticket_stats_count_each_way_a_ticket_escalates(session: Session) -> None:
    def make(runbook_key: str | None, **changes: str) -> Ticket:
        ticket = service.create_ticket(session, title="x", runbook_key=runbook_key)
        for field, value in changes.items():
            setattr(ticket, field, value)
        return ticket

    make("vpn")
    make("vpn", status="escalated")  # imported that way
    make("vpn", level="owner")
    went_back = make("vpn")
    service.change_ticket(session, went_back, actor=None, level="L2")
    service.change_ticket(session, went_back, actor=None, level="L1")  # history still counts it
    make("printer-problem")
    make(None, level="L2")  # no runbook: not counted anywhere
    session.flush()
    assert service.runbook_ticket_stats(session) == {"vpn": (4, 3), "printer-problem": (1, 0)}
