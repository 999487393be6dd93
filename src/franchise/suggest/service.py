"""Suggestions over the runbooks stored in the database, with a cached index."""

from __future__ import annotations

import importlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.runbooks import service as runbooks
from franchise.runbooks.models import Runbook
from franchise.suggest.index import SuggestIndex, Suggestion


def warm_up() -> None:
    """Import scikit-learn before any transaction needs it: on a cold start that takes seconds,
    and on SQLite the first new ticket's transaction would hold the write lock meanwhile."""
    importlib.import_module("sklearn.feature_extraction.text")


_cache: dict[tuple[tuple[str, int, str], ...], SuggestIndex] = {}


def index_for(session: Session) -> SuggestIndex:
    """The index for the current revisions; rebuilt only when a runbook changed."""
    signature = tuple(
        (key, int(rev), status)
        for key, rev, status in session.execute(
            select(Runbook.key, Runbook.current_revision, Runbook.status).order_by(Runbook.key)
        )
    )
    index = _cache.get(signature)
    if index is None:
        index = SuggestIndex(runbooks.all_definitions(session))
        _cache.clear()
        _cache[signature] = index
    return index


def suggest(
    session: Session, text: str, *, alert_type: str | None = None, limit: int = 3
) -> list[Suggestion]:
    return index_for(session).suggest(text, alert_type=alert_type, limit=limit)
