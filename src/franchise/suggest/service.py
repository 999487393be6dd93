"""Suggestions over the runbooks stored in the database, with a cached index."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from franchise.db import Database
from franchise.runbooks import service as runbooks
from franchise.runbooks.models import Runbook
from franchise.suggest.index import Match, SuggestIndex, Suggestion

# (runbooks, sum of their revision numbers, archived runbooks, last change)
LibraryVersion = tuple[int, int, int, datetime | None]


def warm_up(db: Database | None = None) -> None:
    """Build the index of the current library outside any transaction, before a new ticket
    needs it: a cold build takes a second or more, and on SQLite the first new ticket's
    transaction would hold the write lock meanwhile. Without the database, nothing to do (the
    index imports only numpy, already loaded with this module)."""
    if db is not None:
        prepare_index(db)


_cache: dict[LibraryVersion, SuggestIndex] = {}
_building = threading.Lock()


def library_version(session: Session) -> LibraryVersion:
    """Changes with every committed runbook save, whichever process saved it.

    Runbooks are never deleted and every change is a new revision, so the number of runbooks
    and the sum of their revision numbers grow with each one, even when saves commit out of
    order; the last change time tells apart databases (or rolled-back saves) that reached the
    same counts by different edits. One aggregate over the runbooks table, instead of
    reading every runbook's row on each suggestion.
    """
    count, revisions, archived, changed = session.execute(_VERSION_QUERY).one()
    return int(count), int(revisions), int(archived), changed


# Built once: constructing the statement costs more than running it on a small table.
_VERSION_QUERY = select(
    func.count(),
    func.coalesce(func.sum(Runbook.current_revision), 0),
    func.coalesce(func.sum(case((Runbook.status == "archived", 1), else_=0)), 0),
    func.max(Runbook.updated_at),
).select_from(Runbook)


def index_for(session: Session) -> SuggestIndex:
    """The index for the current revisions; rebuilt only when a runbook changed."""
    version = library_version(session)
    index = _cache.get(version)
    if index is None:
        index = _store(version, SuggestIndex(runbooks.all_definitions(session)))
    return index


def prepare_index(db: Database) -> None:
    """Build the index for the current library unless it is cached, in a transaction of its
    own that only reads: the build (seconds for a large library) runs after it has ended, so
    on SQLite it does not hold the write lock that webhooks and other workers wait for."""
    with _building:
        with db.unit_of_work() as session:
            # Read before the definitions: a save committed in between makes the index newer
            # than its version, which only costs one more build, never a stale index.
            version = library_version(session)
            if version in _cache:
                return
            sources = runbooks.current_sources(session)
        # Parsing (YAML with line numbers) is most of a cold build: outside the transaction too.
        _store(
            version,
            SuggestIndex([runbooks.definition_of(number, source) for number, source in sources]),
        )


def _store(version: LibraryVersion, index: SuggestIndex) -> SuggestIndex:
    _cache.clear()
    _cache[version] = index
    return index


def suggest(
    session: Session, text: str, *, alert_type: str | None = None, limit: int = 3
) -> list[Suggestion]:
    return index_for(session).suggest(text, alert_type=alert_type, limit=limit)


def match(session: Session, text: str, *, alert_type: str | None = None, limit: int = 3) -> Match:
    """The suggestions with the confidence that the first is right ("no runbook fits" below
    the threshold)."""
    return index_for(session).match(text, alert_type=alert_type, limit=limit)
