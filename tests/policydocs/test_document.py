"""One document module for the escalation map, the boundaries and the templates."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from franchise.approvals import service as approvals
from franchise.errors import Conflict, InvalidInput
from franchise.escalation import service as escalation
from franchise.messages import service as messages
from franchise.policydocs.document import PolicyDocument, VersionCache
from franchise.policydocs.models import PolicyRevision
from franchise.yamldoc.problems import Problem


def _lint(source: str, file: str) -> tuple[list[str] | None, list[Problem]]:
    """A toy kind: one word per line; a line 'bad' is a problem."""
    lines = source.splitlines()
    problems = [
        Problem(file, n, None, "bad-word", "'bad' is not allowed")
        for n, line in enumerate(lines, 1)
        if line == "bad"
    ]
    return (None if problems else lines), problems


def toy(tmp_path: Path) -> PolicyDocument[list[str]]:
    starter = tmp_path / "starter.txt"
    starter.write_text("one\ntwo\n", encoding="utf-8")
    return PolicyDocument("boundaries", starter, _lint)


def test_problems_refuse_a_source_with_every_problem_listed(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        toy(tmp_path).validate("ok\nbad\nfine\nbad\n", "doc.txt")
    assert caught.value.message == "doc.txt: 2 problem(s)"
    assert [(e["file"], e["line"], e["code"]) for e in caught.value.errors] == [
        ("doc.txt", 2, "bad-word"),
        ("doc.txt", 4, "bad-word"),
    ]


def test_each_version_is_parsed_once_and_versions_never_mix(tmp_path: Path) -> None:
    doc = toy(tmp_path)
    first = doc.parse(3, "a\nb")
    assert doc.parse(3, "a\nb") is first  # the cache answered
    # Revision 3 of another database is another document: keyed by number AND text.
    assert doc.parse(3, "c") == ["c"]
    assert doc.parse(4, "a\nb") == ["a", "b"]


def test_a_stored_version_that_no_longer_passes_is_invalid_input_not_an_assert(
    tmp_path: Path,
) -> None:
    # Stored text passed lint when saved; a stricter release may refuse it later. The error
    # names the revision and survives `python -O`, which strips asserts.
    with pytest.raises(InvalidInput, match=r"revision 7\) no longer passes") as caught:
        toy(tmp_path).parse(7, "bad")
    assert caught.value.errors[0]["line"] == 1


def test_the_starter_applies_as_revision_0_until_something_is_saved(
    session: Session, tmp_path: Path
) -> None:
    doc = toy(tmp_path)
    assert doc.current_source(session) == (0, "one\ntwo\n")
    assert doc.current(session).parsed == ["one", "two"]
    assert doc.load_starter(session) is True
    assert doc.load_starter(session) is False
    revision, changed = doc.save(session, "one\ntwo\n")
    assert (revision.number, changed) == (1, False)  # unchanged text adds nothing
    revision, changed = doc.save(session, "three\n", expected_revision=1)
    assert (revision.number, changed) == (2, True)
    assert doc.current(session).revision == 2
    with pytest.raises(Conflict, match="at revision 2, not 1"):
        doc.save(session, "four\n", expected_revision=1)
    with pytest.raises(InvalidInput):
        doc.save(session, "bad\n")
    assert doc.current(session).parsed == ["three"]


def test_a_broken_stored_boundaries_revision_is_refused_by_name(session: Session) -> None:
    # Before: `assert parsed is not None` in approvals; under -O it returned None.
    session.add(PolicyRevision(kind="boundaries", number=1, source="levels: [oops]\n"))
    session.flush()
    with pytest.raises(InvalidInput, match="stored boundaries document"):
        approvals.current_boundaries(session)


def test_the_three_kinds_read_through_the_one_module(session: Session) -> None:
    for kind, module in (
        ("escalation", escalation),
        ("boundaries", approvals),
        ("templates", messages),
    ):
        document = module.DOCUMENT
        assert isinstance(document, PolicyDocument)
        assert document.kind == kind
        assert document.current_source(session)[0] == 0
    assert escalation.current_map(session).revision == 0
    assert approvals.current_boundaries(session)[1] == 0
    assert messages.load_templates(session).revision == 0


def test_the_version_cache_serves_runbook_revisions_too() -> None:
    from franchise.runbooks.lint import lint_source
    from franchise.runbooks.service import STARTER

    cache = VersionCache("runbook", lambda source, number: lint_source(source, "<stored>"))
    source = (STARTER / "vpn-auth-failure.yaml").read_text(encoding="utf-8")
    parsed = cache.get(2, source)
    assert parsed.key == "vpn-auth-failure"
    assert cache.get(2, source) is parsed
    with pytest.raises(InvalidInput, match=r"stored runbook \(revision 3\)"):
        cache.get(3, source.replace("key: vpn-auth-failure", "key: Not A Key"))
