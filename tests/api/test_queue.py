"""The queue: search over ticket and client, every filter, sort orders and keyset paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from franchise.accounts.service import add_staff
from franchise.clients.contacts import ContactFields, add_contact
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.errors import InvalidInput
from franchise.queue.service import SORTS, QueueQuery, find_tickets
from franchise.tickets.models import PRIORITIES, Ticket
from franchise.tickets.service import change_ticket, create_ticket

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def ids(session: Session, **filters: object) -> list[int]:
    query = QueueQuery(**{"status": "any", **filters})  # type: ignore[arg-type]
    return [t.id for t in find_tickets(session, query, limit=500).tickets]


def test_search_covers_title_body_number_external_id_and_client_name(session: Session) -> None:
    harbour = add_client(session, name="Harbour Dental", tier="premium")
    other = add_client(session, name="Oak & Co", tier="standard")
    a = create_ticket(session, title="Printer jam", client=harbour.id)
    b = create_ticket(session, title="VPN", body="FortiClient says cert_expired", client=other.id)
    c = create_ticket(session, title="Disk", source="api", external_id="PSA-4471")
    assert ids(session, q="harbour") == [a.id]
    assert ids(session, q="FORTICLIENT") == [b.id]
    assert ids(session, q="psa-44") == [c.id]
    assert ids(session, q=f"#{a.id}") == [a.id]
    # LIKE's wildcards are taken literally.
    assert ids(session, q="cert_exp") == [b.id]
    assert ids(session, q="cert%exp") == []


def test_search_finds_the_requester_by_name_or_e_mail(session: Session) -> None:
    client = add_client(session, name="Harbour Dental", tier="premium")
    dana = add_contact(
        session, client, ContactFields(name="Dana Whitfield", email="dana@harbour.example")
    )
    add_contact(session, client, ContactFields(name="Sam Ortiz", email="sam@harbour.example"))
    asked = create_ticket(
        session, title="Outlook keeps asking", client=client.id, requester=dana.id
    )
    create_ticket(session, title="Printer jam", client=client.id)
    assert ids(session, q="whitfield") == [asked.id]
    assert ids(session, q="DANA@HARBOUR") == [asked.id]
    assert ids(session, q="ortiz") == []


def test_every_filter_narrows(session: Session) -> None:
    tech = add_staff(session, name="Tia", email="tia@example.com", role="technician", level="L1")
    client = add_client(session, name="Acme", tier="standard")
    a = create_ticket(session, title="a", client=client.id, category="vpn", priority="high")
    b = create_ticket(session, title="b", category="printer")
    change_ticket(session, b, actor=None, assignee_id=tech.id, level="L2", status="escalated")
    assert ids(session, client=client.id) == [a.id]
    assert ids(session, assignee=str(tech.id)) == [b.id]
    assert ids(session, assignee="none") == [a.id]
    assert ids(session, level="L2") == [b.id]
    assert ids(session, category="vpn") == [a.id]
    assert ids(session, priority="high") == [a.id]
    assert ids(session, status="escalated") == [b.id]
    assert ids(session, status="open") == [b.id, a.id]
    with pytest.raises(InvalidInput, match="unknown priority 'urgent'"):
        ids(session, priority="urgent")
    with pytest.raises(InvalidInput, match="unknown category 'hr'"):
        ids(session, category="hr")
    with pytest.raises(InvalidInput, match="assignee 'bob' is not a staff id"):
        ids(session, assignee="bob")
    with pytest.raises(InvalidInput, match="unknown sort 'status'"):
        ids(session, sort="status")


@pytest.mark.parametrize("sort", [f"{d}{k}" for k in SORTS for d in ("-", "")])
def test_keyset_pages_cover_every_ticket_once_in_order(session: Session, sort: str) -> None:
    # 250 tickets, many sharing a time stamp, a title or a priority: the id breaks ties so no
    # page repeats or skips.
    made = [
        create_ticket(
            session,
            title=f"t{i % 40:03d}",
            priority=PRIORITIES[i % 3 if i % 11 else 3],
            created_at=START + timedelta(minutes=i // 7),
        )
        for i in range(250)
    ]
    for ticket in made:
        ticket.updated_at = START + timedelta(minutes=(250 - ticket.id) // 5)
    session.flush()

    def value(ticket: Ticket) -> object:
        field = sort.lstrip("-")
        if field == "priority":
            return PRIORITIES.index(ticket.priority)
        return getattr(ticket, {"created": "created_at", "updated": "updated_at"}.get(field, field))

    expected = sorted(made, key=lambda t: (value(t), t.id), reverse=sort.startswith("-"))
    if sort.lstrip("-") != "id":
        assert len({value(t) for t in made}) < 250
    seen: list[Ticket] = []
    cursor = None
    pages = 0
    while True:
        page = find_tickets(session, QueueQuery(status="any", sort=sort), cursor=cursor, limit=100)
        seen.extend(page.tickets)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert [t.id for t in seen] == [t.id for t in expected]


def test_a_foreign_or_broken_cursor_is_refused(session: Session) -> None:
    for i in range(3):
        create_ticket(session, title=f"t{i}")
    page = find_tickets(session, QueueQuery(status="any"), limit=1)
    assert page.next_cursor is not None
    with pytest.raises(InvalidInput, match="is not a page of this queue's sort order"):
        find_tickets(session, QueueQuery(status="any", sort="-id"), cursor=page.next_cursor)
    with pytest.raises(InvalidInput, match="is not a page"):
        find_tickets(session, QueueQuery(status="any"), cursor="not-a-cursor!")


def test_api_filters_and_pages_with_a_cursor_header(
    db: Database, app_client: TestClient, l1: dict[str, str]
) -> None:
    with db.unit_of_work() as session:
        client = add_client(session, name="Birch Legal", tier="standard")
        for i in range(7):
            create_ticket(
                session,
                title=f"Mailbox full {i}",
                client=client.id if i % 2 else None,
                created_at=START + timedelta(hours=i),
            )
        client_id = client.id
    got: list[str] = []
    params: dict[str, str | int] = {"search": "birch", "limit": 2}
    for _ in range(5):
        answer = app_client.get("/api/v1/tickets", params=params, headers=l1)
        assert answer.status_code == 200, answer.text
        got.extend(t["title"] for t in answer.json())
        if "x-next-cursor" not in answer.headers:
            break
        assert 'rel="next"' in answer.headers["link"]
        params = {**params, "cursor": answer.headers["x-next-cursor"]}
    assert got == ["Mailbox full 5", "Mailbox full 3", "Mailbox full 1"]
    by_client = app_client.get(
        "/api/v1/tickets", params={"client": client_id, "sort": "created"}, headers=l1
    ).json()
    assert [t["title"] for t in by_client] == ["Mailbox full 1", "Mailbox full 3", "Mailbox full 5"]
    bad = app_client.get("/api/v1/tickets", params={"cursor": "zzz"}, headers=l1)
    assert bad.status_code == 422
    assert "not a page of this queue" in bad.json()["error"]


def test_digits_that_are_not_decimal_are_searched_as_text(session: Session) -> None:
    """ "²" passes str.isdigit() but is no number: it is searched as text, not a crash."""
    squared = create_ticket(session, title="Room 2² projector")
    assert ids(session, q="²") == [squared.id]
    with pytest.raises(InvalidInput, match="is not a staff id"):
        ids(session, assignee="²")
    with pytest.raises(InvalidInput, match="is not a staff id"):
        ids(session, assignee="99999999999999999999")


def test_a_page_sorted_by_the_longest_title_has_a_usable_cursor(
    db: Database, app_client: TestClient, l1: dict[str, str]
) -> None:
    """A title sort's cursor holds the title: 500 characters of any script still fit the
    address and the API's cursor parameter."""
    with db.unit_of_work() as session:
        first = create_ticket(session, title="漢" * 499 + "a")
        second = create_ticket(session, title="漢" * 499 + "b")
        wanted = [first.id, second.id]
    answer = app_client.get("/api/v1/tickets", params={"sort": "title", "limit": 1}, headers=l1)
    assert [t["id"] for t in answer.json()] == wanted[:1]
    cursor = answer.headers["x-next-cursor"]
    assert len(cursor) > 1000
    answer = app_client.get(
        "/api/v1/tickets", params={"sort": "title", "limit": 1, "cursor": cursor}, headers=l1
    )
    assert answer.status_code == 200, answer.text
    assert [t["id"] for t in answer.json()] == wanted[1:]


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        ("title", "ix_tickets_title_id"),
        ("-title", "ix_tickets_title_id"),
        ("-priority", "ix_tickets_priority_rank_id"),
        ("priority", "ix_tickets_priority_rank_id"),
    ],
)
def test_each_new_sort_pages_on_its_index(
    session: Session, backend: str, sort: str, index: str
) -> None:
    """SQLite walks the sort's index rather than sorting the table, first page and later
    ones (the query's priority rank is the index's expression, word for word)."""
    for i in range(5):
        create_ticket(session, title=f"t{i}", priority=PRIORITIES[i % 4])
    session.flush()
    if backend != "sqlite":
        # PostgreSQL's planner rightly sorts a handful of rows; the bench covers it at scale.
        return
    statements: list[tuple[str, object]] = []
    connection = session.connection()

    def seen(conn: object, cursor: object, statement: str, params: object, *_: object) -> None:
        if statement.lstrip().startswith("SELECT tickets."):
            statements.append((statement, params))

    event.listen(connection, "before_cursor_execute", seen)
    try:
        page = find_tickets(session, QueueQuery(status="any", sort=sort), limit=2)
        find_tickets(session, QueueQuery(status="any", sort=sort), cursor=page.next_cursor, limit=2)
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    assert len(statements) == 2
    for statement, params in statements:
        plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()  # type: ignore[arg-type]
        details = " ".join(str(row[-1]) for row in plan)
        assert f"USING INDEX {index}" in details, details
        assert "TEMP B-TREE" not in details, details
