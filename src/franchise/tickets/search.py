"""The queue's text search, and the text index behind it.

A search term matches a ticket whose title, body or external id holds it (case aside, LIKE's
wildcards taken literally), whose client's name holds it, or whose requester's name or
e-mail does. Scanning a million tickets with LIKE '%term%' takes seconds, so the text has an
index (migration 0026):

- SQLite: the FTS5 table `tickets_search` with the trigram tokenizer, over title, body and
  external id, kept in step with `tickets` by triggers. A quoted FTS phrase of a term of 3
  characters or more finds every ticket whose text holds the term (the tokenizer folds case
  at least as widely as LIKE does), so it narrows the tickets and LIKE then decides, exactly
  as it did without the index. Shorter terms have no trigram: LIKE alone.
- PostgreSQL: pg_trgm GIN indexes on the three columns, which ILIKE '%term%' uses.

PostgreSQL's planner knows from pg_trgm's statistics how many tickets hold a term, and
chooses between the trigram indexes (a rare term) and walking the queue in its sort order
checking each row (a common one: a page fills quickly). SQLite's cannot tell, so the choice
is made here: the FTS table is asked for at most MAX_IDS + 1 tickets; a rarer term is
searched among those ids only (a few thousand primary-key lookups at worst), a commoner one
by LIKE along the queue's order, without the index.

Client and contact names are read first (small tables) and the tickets then filtered by id.

A rebuild of `tickets` (Alembic batch mode on SQLite copies the table and drops the old one)
drops the triggers with it: such a migration must create them again and rebuild the index.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, column, false, literal_column, or_, select, table
from sqlalchemy.orm import Session

from franchise.clients.models import Client, ClientContact
from franchise.tickets.models import Ticket

# The objects migration 0026 makes, which no model describes: the FTS5 table and the
# shadow tables FTS5 keeps beside it (SQLite), the trigram indexes (PostgreSQL).
FTS_TABLE = "tickets_search"
TRIGRAM_INDEXES = frozenset(f"ix_tickets_{c}_trgm" for c in ("title", "body", "external_id"))
# A term of fewer characters has no trigram to look up.
MIN_INDEXED = 3
# Up to this many tickets holding the term, the search looks at those tickets only.
MAX_IDS = 5000
# Matching clients or contacts passed to the ticket query as literal ids, at most.
MAX_NAME_IDS = 500

_fts = table(FTS_TABLE, column("rowid"))


def is_index_object(name: str | None) -> bool:
    """Whether a table or index is part of the text index (not described by the models)."""
    if name is None:
        return False
    return name == FTS_TABLE or name.startswith(FTS_TABLE + "_") or name in TRIGRAM_INDEXES


def fts_phrase(term: str) -> str:
    """The term as one FTS5 phrase: in double quotes, its own quotes doubled, so `"`, `*`,
    `-`, `OR`, `NEAR`, `:` and parentheses are text to find, never query syntax."""
    return '"' + term.replace('"', '""') + '"'


def like_pattern(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def text_matches(session: Session, term: str) -> ColumnElement[bool]:
    """Tickets whose title, body or external id holds `term`."""
    like = like_pattern(term)
    # FTS5 folds case by its own rules, LIKE by Python's lower(): outside ASCII the two can
    # disagree (a dotted capital I), so only an ASCII term is narrowed by the index.
    if (
        session.get_bind().dialect.name == "postgresql"
        or len(term) < MIN_INDEXED
        or not term.isascii()
    ):
        return _like(like)
    phrase = fts_phrase(term)
    found = select(_fts.c.rowid).where(literal_column(FTS_TABLE).match(phrase))
    ids = list(session.scalars(found.limit(MAX_IDS + 1)))
    if len(ids) > MAX_IDS:
        return _like(like)
    if not ids:
        return false()
    # The index found the candidates; LIKE has the last word.
    return and_(Ticket.id.in_(ids), _like(like))


def name_matches(session: Session, term: str) -> list[ColumnElement[bool]]:
    """Tickets of a client, or with a requester, whose name (or e-mail) holds `term`."""
    like = like_pattern(term)
    clients = select(Client.id).where(Client.name.ilike(like, escape="\\"))
    contacts = select(ClientContact.id).where(
        or_(
            ClientContact.name.ilike(like, escape="\\"),
            ClientContact.email.ilike(like, escape="\\"),
        )
    )
    matches: list[ColumnElement[bool]] = []
    for field, query in ((Ticket.client_id, clients), (Ticket.requester_id, contacts)):
        ids = list(session.scalars(query.limit(MAX_NAME_IDS + 1)))
        if len(ids) > MAX_NAME_IDS:
            # A common term (a mail domain) matches most contacts: a sub-select, not one
            # bound parameter per id (databases cap those).
            matches.append(field.in_(query))
        elif ids:
            matches.append(field.in_(ids))
    return matches


def _like(like: str) -> ColumnElement[bool]:
    return or_(
        Ticket.title.ilike(like, escape="\\"),
        Ticket.body.ilike(like, escape="\\"),
        Ticket.external_id.ilike(like, escape="\\"),
    )
