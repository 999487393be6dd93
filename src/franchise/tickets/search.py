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

Which way a query goes is decided here, not left to the planners (neither can tell how many
tickets a term matches): the index is asked for at most MAX_IDS + 1 tickets. A rarer term
is searched among those ids only (a few thousand primary-key lookups at worst); a commoner
term is met often enough that walking the queue in its sort order finds a page quickly, so
its LIKE is checked row by row there and the index is left out.

Client and contact names are read first (small tables) and the tickets then filtered by id.

A rebuild of `tickets` (Alembic batch mode on SQLite copies the table and drops the old one)
drops the triggers with it: such a migration must create them again and rebuild the index.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, column, false, func, literal_column, or_, select, table
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
    postgres = session.get_bind().dialect.name == "postgresql"
    if len(term) < MIN_INDEXED:
        return _scanned(like, postgres)
    if postgres:
        found = select(Ticket.id).where(_indexed_postgres(like)).limit(MAX_IDS + 1)
    else:
        found = (
            select(_fts.c.rowid)
            .where(literal_column(FTS_TABLE).match(fts_phrase(term)))
            .limit(MAX_IDS + 1)
        )
    ids = list(session.scalars(found))
    if len(ids) > MAX_IDS:
        return _scanned(like, postgres)
    if not ids:
        return false()
    # On SQLite the index found the candidates and LIKE has the last word; on PostgreSQL
    # the ids already are the answer.
    by_id = Ticket.id.in_(ids)
    return by_id if postgres else and_(by_id, _scanned(like, postgres))


def name_matches(session: Session, term: str) -> list[ColumnElement[bool]]:
    """Tickets of a client, or with a requester, whose name (or e-mail) holds `term`."""
    like = like_pattern(term)
    client_ids = list(
        session.scalars(select(Client.id).where(Client.name.ilike(like, escape="\\")))
    )
    contact_ids = list(
        session.scalars(
            select(ClientContact.id).where(
                or_(
                    ClientContact.name.ilike(like, escape="\\"),
                    ClientContact.email.ilike(like, escape="\\"),
                )
            )
        )
    )
    matches: list[ColumnElement[bool]] = []
    if client_ids:
        matches.append(Ticket.client_id.in_(client_ids))
    if contact_ids:
        matches.append(Ticket.requester_id.in_(contact_ids))
    return matches


def _indexed_postgres(like: str) -> ColumnElement[bool]:
    return or_(
        Ticket.title.ilike(like, escape="\\"),
        Ticket.body.ilike(like, escape="\\"),
        Ticket.external_id.ilike(like, escape="\\"),
    )


def _scanned(like: str, postgres: bool) -> ColumnElement[bool]:
    """The LIKE test of each row. On PostgreSQL it is written so that the trigram indexes
    cannot serve it: the planner, guessing a long term rare, would otherwise fetch every
    ticket holding a common one (or scan a whole index for a term with no trigram) instead
    of walking the queue's order until a page is full."""
    if not postgres:
        return _indexed_postgres(like)
    return or_(
        func.coalesce(Ticket.title, "").ilike(like, escape="\\"),
        func.coalesce(Ticket.body, "").ilike(like, escape="\\"),
        func.coalesce(Ticket.external_id, "").ilike(like, escape="\\"),
    )
