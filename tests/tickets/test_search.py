# ruff: noqa: S608 - the SQL is built from constants of franchise.tickets.search
"""The queue's text search and its index: the index follows every insert, edit and delete;
short terms, quotes and FTS query syntax are plain text; rare and common terms (searched
through the index or along the queue's order) give the same answer."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, inspect, text, update
from sqlalchemy.orm import Session

from franchise.clients.models import Client, ClientContact
from franchise.queue.service import QueueQuery, find_tickets
from franchise.tickets import search
from franchise.tickets.models import Ticket
from franchise.tickets.service import create_ticket


def ids(session: Session, q: str, **filters: object) -> list[int]:
    query = QueueQuery(**{"status": "any", "q": q, **filters})  # type: ignore[arg-type]
    return [t.id for t in find_tickets(session, query, limit=500).tickets]


def by_hand(session: Session, term: str) -> list[int]:
    """Newest first, the tickets whose title, body or external id holds the term (ASCII
    case aside): what the search must answer, worked out without the database."""
    tickets = session.query(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc()).all()
    wanted = term.strip().lower()
    return [
        t.id
        for t in tickets
        if any(wanted in (field or "").lower() for field in (t.title, t.body, t.external_id))
    ]


def fts_rows(session: Session, term: str) -> list[int]:
    found = session.execute(
        text(f"SELECT rowid FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH :m"),
        {"m": search.fts_phrase(term)},
    )
    return sorted(found.scalars())


def check_index(session: Session) -> None:
    """SQLite: FTS5's own check that the index agrees with the tickets table."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text(f"INSERT INTO {search.FTS_TABLE} ({search.FTS_TABLE}) VALUES ('integrity-check')")
        )


def test_the_index_follows_insert_update_and_delete(session: Session, backend: str) -> None:
    kept = create_ticket(session, title="Quokka on the loading dock", body="seen at 9am")
    gone = create_ticket(session, title="Wombat in the server room", external_id="PSA-77812")
    session.flush()
    assert ids(session, "quokka") == [kept.id]
    assert ids(session, "psa-778") == [gone.id]
    if backend == "sqlite":
        assert fts_rows(session, "quokka") == [kept.id]

    # An edit of the text through the ORM: the old words go, the new ones are found.
    kept.title = "Platypus on the loading dock"
    kept.body = "seen at noon"
    session.flush()
    assert ids(session, "quokka") == []
    assert ids(session, "9am") == []
    assert ids(session, "platypus") == [kept.id]
    assert ids(session, "at noon") == [kept.id]
    # A bulk UPDATE of the external id, and a change that leaves the text alone.
    session.execute(update(Ticket).where(Ticket.id == gone.id).values(external_id="CW-5521"))
    kept.status = "in_progress"
    session.flush()
    session.expire_all()
    assert ids(session, "psa-778") == []
    assert ids(session, "cw-552") == [gone.id]
    assert ids(session, "platypus") == [kept.id]
    check_index(session)

    # Deleted tickets leave the index.
    session.execute(delete(Ticket).where(Ticket.id == gone.id))
    session.flush()
    assert ids(session, "wombat") == []
    assert ids(session, "cw-552") == []
    if backend == "sqlite":
        assert fts_rows(session, "wombat") == []
    assert ids(session, "loading dock") == [kept.id]
    check_index(session)


def test_the_index_exists_for_each_backend(session: Session, backend: str) -> None:
    connection = session.connection()
    if backend == "sqlite":
        assert search.FTS_TABLE in inspect(connection).get_table_names()
        triggers = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'tickets'"
        ).scalars()
        assert {"tickets_search_insert", "tickets_search_update", "tickets_search_delete"} <= set(
            triggers
        )
    else:
        names = {i["name"] for i in inspect(connection).get_indexes("tickets")}
        assert names >= search.TRIGRAM_INDEXES


TITLES = [
    'Say "hello" to the new phones',
    "star*power licence",
    "e-mail down for accounts",
    "this OR that printer",
    "NEAR(a b) wiring",
    "title:foo label",
    "(parenthesised) note",
    "it's the router",
    "^caret at start",
    "100% disk",
    "cert_expired",
    "AB test",
    "xy",
    "a-b",
    "AND NOT",
]
TERMS = [
    '"',
    '"hello"',
    '""',
    '"unterminated',
    "*",
    "star*",
    "-",
    "e-mail",
    "-mail",
    "OR",
    "or that",
    "NEAR(a",
    "NEAR",
    "title:",
    "title:foo",
    "(",
    ")",
    "'",
    "it's",
    "^",
    "^caret",
    "%",
    "100%",
    "_",
    "cert_exp",
    "AND",
    "NOT",
    "AND NOT",
    "{title}: x",
    "a",
    "ab",
    "xy",
    "b ",
    "-b",
    "ROUTER",
]


def test_quotes_operators_and_short_terms_are_plain_text(session: Session) -> None:
    for title in TITLES:
        create_ticket(session, title=title)
    session.flush()
    for term in TERMS:
        assert ids(session, term) == by_hand(session, term), term


def test_a_term_found_in_many_tickets_gives_the_same_answer(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past MAX_IDS tickets the search walks the queue's order instead of asking the index
    for ids: both ways answer alike, with filters and across pages."""
    for i in range(30):
        create_ticket(
            session,
            title=f"Backup failed on srv{i:02d}" if i % 3 else f"Printer jam {i}",
            body="nightly job" if i % 2 else "",
            priority="high" if i % 4 == 0 else "normal",
        )
    session.flush()
    cases = [("backup", {}), ("nightly", {"priority": "high"}), ("srv1", {}), ("jam 2", {})]
    answers = {}
    for term, filters in cases:
        answers[term] = ids(session, term, **filters)
        assert answers[term] == [
            i for i in by_hand(session, term) if i in ids(session, "", **filters)
        ]
    monkeypatch.setattr(search, "MAX_IDS", 2)
    for term, filters in cases:
        assert ids(session, term, **filters) == answers[term], term
    # Pages of a common term by title.
    seen: list[int] = []
    cursor = None
    while True:
        page = find_tickets(
            session, QueueQuery(status="any", q="backup", sort="title"), cursor=cursor, limit=7
        )
        seen.extend(t.id for t in page.tickets)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(answers["backup"])
    assert len(seen) == 20


def test_names_matching_many_clients_and_contacts_are_searched_by_sub_select(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A common term (a mail domain) matches many contacts: past MAX_NAME_IDS they are not
    sent as one bound parameter each, and the answer is the same."""
    tickets = []
    for n in range(4):
        client = Client(name=f"Harbour Dental {n}")
        session.add(client)
        session.flush()
        contact = ClientContact(
            client_id=client.id, name=f"Person {n}", email=f"p{n}@harbour.example"
        )
        session.add(contact)
        session.flush()
        tickets.append(
            create_ticket(session, title=f"Ticket {n}", client=client.id, requester=contact.id)
        )
    create_ticket(session, title="Someone else's")
    session.flush()
    newest_first = [t.id for t in reversed(tickets)]
    assert ids(session, "harbour.example") == newest_first
    assert ids(session, "harbour dental") == newest_first
    monkeypatch.setattr(search, "MAX_NAME_IDS", 1)
    assert ids(session, "harbour.example") == newest_first
    assert ids(session, "harbour dental") == newest_first
    assert ids(session, "person 2") == [tickets[2].id]
