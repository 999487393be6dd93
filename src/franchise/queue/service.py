"""The ticket queue: search, filters, a sort order and keyset paging.

Its own package, above tickets and approvals: the "approval" view lists the tickets an
approval request waits on, which the tickets domain does not know about.

Everything a view needs fits in its URL (QueueQuery's fields and the cursor), so a view can
be bookmarked. Paging is by keyset: the cursor holds the sort value and id of the last ticket
shown, and the next page starts after it; deep pages cost what the first one does.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, literal_column, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from franchise.approvals.inbox import tickets_waiting
from franchise.db import MAX_ID
from franchise.errors import InvalidInput
from franchise.runbooks.definition import CATEGORIES
from franchise.tickets.models import PRIORITIES, STATUSES, Ticket
from franchise.tickets.search import name_matches, text_matches
from franchise.tickets.service import CLOSED, VIEWS

# Priorities in rank order as SQL: the queue sorts by rank, not by the name's spelling.
# Written out (no bound parameters) because the index ix_tickets_priority_rank_id is on this
# very expression (migration 0026), and a database uses such an index only for the same text.
PRIORITY_RANK: ColumnElement[int] = literal_column(
    "(CASE tickets.priority "
    + " ".join(f"WHEN '{p}' THEN {rank}" for rank, p in enumerate(PRIORITIES, start=1))
    + " ELSE 0 END)",
    Integer,
)
PRIORITY_RANK_INDEX = "ix_tickets_priority_rank_id"


@dataclass(frozen=True)
class SortKey:
    # What a cursor calls the sort (the names of the first cursors are kept).
    name: str
    expression: ColumnElement[Any] | InstrumentedAttribute[Any]
    # The ticket's sort value as a cursor holds it (JSON), and back to a value for SQL.
    value: Callable[[Ticket], Any]
    parse: Callable[[Any], Any]


def _when(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not text")
    return value


def _number(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("not a number")
    return value


# Sort keys, a leading "-" for descending; ties are broken by id the same way. Each pages by
# (sort value, id) on an index.
SORTS: dict[str, SortKey] = {
    "created": SortKey("created_at", Ticket.created_at, lambda t: t.created_at.isoformat(), _when),
    "updated": SortKey("updated_at", Ticket.updated_at, lambda t: t.updated_at.isoformat(), _when),
    "id": SortKey("id", Ticket.id, lambda t: t.id, _number),
    "title": SortKey("title", Ticket.title, lambda t: t.title, _text),
    "priority": SortKey(
        "priority",
        PRIORITY_RANK,
        lambda t: PRIORITIES.index(t.priority) + 1 if t.priority in PRIORITIES else 0,
        _number,
    ),
}
DEFAULT_SORT = "-created"
MAX_SEARCH = 200
# The longest cursor: a title sort's holds the title (500 characters, up to 4 bytes each).
MAX_CURSOR = 3000


@dataclass(frozen=True)
class QueueQuery:
    view: str = "all"
    status: str = "open"
    q: str = ""
    client: int | None = None
    # A staff id, or "none" for unassigned tickets.
    assignee: str = ""
    level: str = ""
    category: str = ""
    priority: str = ""
    sort: str = DEFAULT_SORT


@dataclass(frozen=True)
class QueuePage:
    tickets: list[Ticket]
    # The cursor of the next page, None on the last page.
    next_cursor: str | None


def find_tickets(
    session: Session,
    query: QueueQuery,
    *,
    staff_id: int | None = None,
    cursor: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> QueuePage:
    """One page of the queue (`staff_id` is whose "mine" view it is)."""
    stmt = _filtered(session, select(Ticket), query, staff_id)
    key, descending = _sort(query.sort)
    if cursor:
        stmt = stmt.where(_after(key, descending, decode_cursor(cursor, key)))
    if key.name == "id":
        order = [Ticket.id.desc() if descending else Ticket.id.asc()]
    elif descending:
        order = [key.expression.desc(), Ticket.id.desc()]
    else:
        order = [key.expression.asc(), Ticket.id.asc()]
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1).offset(offset)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(key, rows[-1]) if more and rows else None
    return QueuePage(rows, next_cursor)


def _filtered(
    session: Session, stmt: Select[Any], query: QueueQuery, staff_id: int | None
) -> Select[Any]:
    status = query.status
    if status == "open":
        stmt = stmt.where(Ticket.status.not_in(CLOSED))
    elif status not in ("", "any"):
        if status not in STATUSES:
            raise InvalidInput(f"unknown status '{status}' (use open, any, {', '.join(STATUSES)})")
        stmt = stmt.where(Ticket.status == status)
    if query.category:
        if query.category not in CATEGORIES:
            raise InvalidInput(f"unknown category '{query.category}' (use {', '.join(CATEGORIES)})")
        stmt = stmt.where(Ticket.category == query.category)
    if query.priority:
        if query.priority not in PRIORITIES:
            raise InvalidInput(f"unknown priority '{query.priority}' (use {', '.join(PRIORITIES)})")
        stmt = stmt.where(Ticket.priority == query.priority)
    if query.level:
        stmt = stmt.where(Ticket.level == query.level)
    if query.client is not None:
        stmt = stmt.where(Ticket.client_id == query.client)
    if query.assignee == "none":
        stmt = stmt.where(Ticket.assignee_id.is_(None))
    elif query.assignee:
        if not query.assignee.isdecimal() or int(query.assignee) > MAX_ID:
            raise InvalidInput(f"assignee '{query.assignee}' is not a staff id (or 'none')")
        stmt = stmt.where(Ticket.assignee_id == int(query.assignee))
    stmt = _view(stmt, query.view, staff_id)
    text = query.q.strip()
    if len(text) > MAX_SEARCH:
        raise InvalidInput(f"the search is longer than {MAX_SEARCH} characters")
    if text:
        stmt = stmt.where(or_(*search_matches(session, text)))
    return stmt


def search_matches(session: Session, text: str) -> list[ColumnElement[bool]]:
    """What a search term matches: title, body, the ticket number (#123), the external id, the
    client's name and the requester's name or e-mail (see tickets.search)."""
    if text.startswith("#") and text[1:].isdecimal() and len(text) < 11:
        # "#123" names a ticket: found by its number alone, not by scanning the text.
        return [Ticket.id == int(text[1:])]
    matches = [text_matches(session, text), *name_matches(session, text)]
    if text.isdecimal() and len(text) < 10:
        matches.append(Ticket.id == int(text))
    return matches


def _view(stmt: Select[Any], view: str, staff_id: int | None) -> Select[Any]:
    if view not in VIEWS:
        raise InvalidInput(f"unknown view '{view}' (use {', '.join(VIEWS)})")
    if view == "mine":
        if staff_id is None:
            raise InvalidInput("the 'mine' view needs to know whose tickets to show")
        return stmt.where(Ticket.assignee_id == staff_id)
    if view == "unassigned":
        return stmt.where(Ticket.assignee_id.is_(None))
    if view == "approval":
        # The status says so while a request waits; the pending request is the truth.
        return stmt.where(
            or_(Ticket.status == "waiting_on_approval", Ticket.id.in_(tickets_waiting()))
        )
    if view == "escalated":
        return stmt.where(Ticket.status == "escalated")
    return stmt


def _sort(sort: str) -> tuple[SortKey, bool]:
    key = sort.removeprefix("-")
    if key not in SORTS:
        choices = ", ".join(f"{k}, -{k}" for k in SORTS)
        raise InvalidInput(f"unknown sort '{sort}' (use {choices})")
    return SORTS[key], sort.startswith("-")


def _after(key: SortKey, descending: bool, last: tuple[Any, int]) -> ColumnElement[bool]:
    """Rows after (value, id) in the sort order. The first condition is a plain range on the
    sort value, so the index does the work."""
    value, last_id = last
    if key.name == "id":
        return Ticket.id < last_id if descending else Ticket.id > last_id
    column = key.expression
    if descending:
        return and_(column <= value, or_(column < value, Ticket.id < last_id))
    return and_(column >= value, or_(column > value, Ticket.id > last_id))


def encode_cursor(key: SortKey, ticket: Ticket) -> str:
    value = [key.name, key.value(ticket), ticket.id]
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, key: SortKey) -> tuple[Any, int]:
    """The (value, id) a cursor holds; refused if it is not one of this sort's cursors."""
    problem = InvalidInput(
        f"cursor '{cursor[:40]}' is not a page of this queue's sort order; start from the "
        "first page"
    )
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, value, last_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, binascii.Error):
        raise problem from None
    if name != key.name or not isinstance(last_id, int) or isinstance(last_id, bool):
        raise problem
    try:
        return key.parse(value), last_id
    except ValueError:
        raise problem from None


def list_tickets(
    session: Session,
    *,
    status: str | None = None,
    category: str | None = None,
    search: str | None = None,
    view: str = "all",
    staff_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Ticket]:
    """Tickets, newest first (the CLI's list). `status` may also be "open" (not resolved or closed) or "any";
    `search` matches title, body, ticket number ("#123"), external id or client name; `view`
    narrows to the tickets of `staff_id` ("mine"), unassigned ones, those waiting on
    approval, or escalated. The queue's full set of filters is find_tickets."""
    query = QueueQuery(view=view, status=status or "", q=search or "", category=category or "")
    return find_tickets(session, query, staff_id=staff_id, limit=limit, offset=offset).tickets
