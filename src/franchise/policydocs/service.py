"""Versioned policy documents (escalation map, approval boundaries, message templates).

Each kind is one YAML document; every save that changes it is a new numbered revision, so
changes can be reviewed, diffed and linked from a drill review.
"""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.errors import Conflict, InvalidInput
from franchise.policydocs.models import POLICY_KINDS, PolicyRevision


def current(session: Session, kind: str) -> PolicyRevision | None:
    _check_kind(kind)
    return session.scalar(
        select(PolicyRevision)
        .where(PolicyRevision.kind == kind)
        .order_by(PolicyRevision.number.desc())
        .limit(1)
    )


def revisions(session: Session, kind: str) -> list[PolicyRevision]:
    _check_kind(kind)
    return list(
        session.scalars(
            select(PolicyRevision)
            .where(PolicyRevision.kind == kind)
            .order_by(PolicyRevision.number)
        )
    )


def get_revision(session: Session, kind: str, number: int) -> PolicyRevision:
    _check_kind(kind)
    rev = session.scalar(
        select(PolicyRevision).where(PolicyRevision.kind == kind, PolicyRevision.number == number)
    )
    if rev is None:
        from franchise.errors import NotFound

        raise NotFound(f"{kind} has no revision {number}")
    return rev


def save(
    session: Session,
    kind: str,
    source: str,
    *,
    author: Staff | None = None,
    note: str = "",
    expected_revision: int | None = None,
) -> tuple[PolicyRevision, bool]:
    """Store a new revision unless the source is unchanged. Returns (revision, changed).

    The caller validates `source` first; `expected_revision` guards against two people
    saving from the same revision (the second gets a Conflict and loses nothing).
    """
    _lock_kind(session, kind)
    latest = current(session, kind)
    number = latest.number if latest else 0
    if expected_revision is not None and expected_revision != number:
        raise Conflict(
            f"the {kind} document is at revision {number}, not {expected_revision}: "
            "someone saved it meanwhile; reload, reapply your change and save again"
        )
    if latest is not None and latest.source == source:
        return latest, False
    revision = PolicyRevision(
        kind=kind,
        number=number + 1,
        source=source,
        author_id=author.id if author else None,
        note=note,
    )
    session.add(revision)
    session.flush()
    return revision, True


def _lock_kind(session: Session, kind: str) -> None:
    """Serialise saves of one document kind, so a second save from the same revision sees the
    first and gets a Conflict. SQLite already serialises writers (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"policy:{kind}"}
        )


def count(session: Session, kind: str) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(PolicyRevision).where(PolicyRevision.kind == kind)
        )
        or 0
    )


def _check_kind(kind: str) -> None:
    if kind not in POLICY_KINDS:
        raise InvalidInput(f"unknown policy document '{kind}' (use {', '.join(POLICY_KINDS)})")
