"""One policy document kind (escalation map, approval boundaries, message templates).

What every kind does the same way lives here once: refuse a source with problems (every
problem listed, as InvalidInput), read the version in use (the shipped starter file until
something is saved), parse each version once per process, and save a new revision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.errors import InvalidInput
from franchise.policydocs import service as revisions
from franchise.policydocs.models import PolicyRevision
from franchise.yamldoc.problems import Problem

T = TypeVar("T")
# (source, file) -> (parsed or None, problems); any problem at all refuses the document.
Lint = Callable[[str, str], tuple[T | None, Sequence[Problem]]]
# (source, revision) -> the same, for a stored version (templates carry their revision).
StoredLint = Callable[[str, int], tuple[T | None, Sequence[Problem]]]


def checked(parsed: T | None, problems: Sequence[Problem], file: str) -> T:
    """The parsed document, or InvalidInput naming every problem (never an assert: those
    vanish under `python -O`)."""
    errors = [p for p in problems if p.is_error]
    if errors or parsed is None:
        raise InvalidInput(
            f"{file}: {len(errors)} problem(s)", errors=[p.to_dict() for p in errors]
        )
    return parsed


class VersionCache(Generic[T]):
    """Parsed documents keyed by version: revision number *and* text. Tests and tools open
    several databases in one process, and revision 3 of one is not revision 3 of another.
    Any stored document kind can use it (runbook revisions too)."""

    def __init__(self, what: str, lint_stored: StoredLint[T], size: int = 32) -> None:
        self.what = what
        self._lint_stored = lint_stored
        self._parse = lru_cache(maxsize=size)(self._parse_version)

    def get(self, revision: int, source: str) -> T:
        return self._parse(revision, source)

    def _parse_version(self, revision: int, source: str) -> T:
        parsed, problems = self._lint_stored(source, revision)
        # Warnings (format 2 rules on a format 1 runbook) never refuse a stored document.
        problems = [p for p in problems if p.is_error]
        if problems or parsed is None:
            # Stored text passed lint when saved; only a stricter release can refuse it.
            raise InvalidInput(
                f"the stored {self.what} (revision {revision}) no longer passes its checks; "
                "save a corrected revision",
                errors=[p.to_dict() for p in problems],
            )
        return parsed


@dataclass(frozen=True)
class Version(Generic[T]):
    parsed: T
    source: str
    # 0: nothing saved yet, so the shipped starter file applies.
    revision: int


class PolicyDocument(Generic[T]):
    """A document kind stored as numbered `PolicyRevision` rows."""

    def __init__(
        self,
        kind: str,
        starter: Path,
        lint: Lint[T],
        *,
        lint_stored: StoredLint[T] | None = None,
        cache_size: int = 32,
    ) -> None:
        self.kind = kind
        self.starter = starter
        self.lint = lint
        # One cache per kind, so one kind cannot evict another's versions.
        self._versions = VersionCache(
            f"{kind} document",
            lint_stored or (lambda source, number: lint(source, "<stored>")),
            cache_size,
        )
        self._starter_text: str | None = None

    def starter_source(self) -> str:
        if self._starter_text is None:
            self._starter_text = self.starter.read_text(encoding="utf-8")
        return self._starter_text

    def validate(self, source: str, file: str | None = None) -> T:
        """Lint a source; any problem refuses it with every problem listed."""
        where = file or f"<{self.kind}>"
        parsed, problems = self.lint(source, where)
        return checked(parsed, problems, where)

    def latest(self, session: Session) -> tuple[int, str] | None:
        """(revision, text) of the newest saved revision; only the two columns needed, since
        some kinds are read on every new ticket."""
        row = session.execute(
            select(PolicyRevision.number, PolicyRevision.source)
            .where(PolicyRevision.kind == self.kind)
            .order_by(PolicyRevision.number.desc())
            .limit(1)
        ).first()
        return None if row is None else (row[0], row[1])

    def current_source(self, session: Session) -> tuple[int, str]:
        """(revision, text) in use; revision 0 is the shipped starter file."""
        return self.latest(session) or (0, self.starter_source())

    def current(self, session: Session) -> Version[T]:
        number, source = self.current_source(session)
        return Version(self.parse(number, source), source, number)

    def parse(self, revision: int, source: str) -> T:
        """The parsed version, from the cache after the first time."""
        return self._versions.get(revision, source)

    def save(
        self,
        session: Session,
        source: str,
        *,
        file: str | None = None,
        author: Staff | None = None,
        note: str = "",
        expected_revision: int | None = None,
        validate: Callable[[str, str], object] | None = None,
    ) -> tuple[PolicyRevision, bool]:
        """Check, then store a new revision unless unchanged. Returns (revision, changed).

        `validate` replaces the plain lint when a kind checks against other data (message
        templates against the stored runbooks).
        """
        where = file or f"<{self.kind}>"
        if validate is None:
            self.validate(source, where)
        else:
            validate(source, where)
        return revisions.save(
            session,
            self.kind,
            source,
            author=author,
            note=note,
            expected_revision=expected_revision,
        )

    def load_starter(
        self,
        session: Session,
        *,
        note: str = "starter library",
        save: Callable[[str, str], object] | None = None,
    ) -> bool:
        """Store the shipped file as revision 1 when nothing is stored yet (idempotent)."""
        if revisions.current(session, self.kind) is not None:
            return False
        source = self.starter_source()
        if save is not None:
            save(source, str(self.starter))
        else:
            self.save(session, source, file=str(self.starter), note=note)
        return True
