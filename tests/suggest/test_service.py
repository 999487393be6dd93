"""The suggest service's cached index: rebuilt whenever the runbook library changed, whichever
database connection or process changed it, and reused otherwise."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from franchise.db import Database
from franchise.runbooks.service import STARTER, load_starter, save_runbook
from franchise.suggest import service
from tests.alerts.committed import BACKENDS, committed_database

STARTER_PRINTER = (STARTER / "printer-problem.yaml").read_text(encoding="utf-8")
FAX_TEXT = "the fax machine in reception hums and eats every page"


def fax_runbook(status: str = "validated") -> str:
    """The starter printer runbook turned into a fax runbook, with its own key and keyword."""
    source = re.sub(r"(?m)^key: .*$", "key: fax-jam", STARTER_PRINTER, count=1)
    source = re.sub(r"(?m)^title: .*$", "title: Fax machine eats pages", source, count=1)
    source = re.sub(r"(?m)^status: .*$", f"status: {status}", source, count=1)
    return source.replace("keywords: [", "keywords: [fax machine, ", 1)


def top_key(session: Session, text: str) -> str:
    (best,) = service.suggest(session, text, limit=1)
    return best.key


def test_a_new_runbook_is_suggested_by_the_next_call(session: Session) -> None:
    load_starter(session)
    assert top_key(session, FAX_TEXT) != "fax-jam"
    save_runbook(session, fax_runbook())
    assert top_key(session, FAX_TEXT) == "fax-jam"


def test_a_revision_that_archives_a_runbook_removes_it_at_once(session: Session) -> None:
    load_starter(session)
    save_runbook(session, fax_runbook())
    assert top_key(session, FAX_TEXT) == "fax-jam"
    save_runbook(session, fax_runbook(status="archived"))
    assert top_key(session, FAX_TEXT) != "fax-jam"


def test_the_index_is_reused_while_the_library_is_unchanged(session: Session) -> None:
    load_starter(session)
    first = service.index_for(session)
    assert service.index_for(session) is first
    save_runbook(session, fax_runbook())
    assert service.index_for(session) is not first


def test_the_library_version_moves_with_every_save(session: Session) -> None:
    load_starter(session)
    before = service.library_version(session)
    save_runbook(session, fax_runbook())
    created = service.library_version(session)
    save_runbook(session, STARTER_PRINTER)  # unchanged: no new revision, same version
    assert service.library_version(session) == created
    save_runbook(session, fax_runbook(status="draft"))
    assert len({before, created, service.library_version(session)}) == 3


SAVE_IN_ANOTHER_PROCESS = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from franchise.db import Database
    from franchise.runbooks.service import save_runbook

    db = Database.from_url(sys.argv[1])
    with db.unit_of_work() as session:
        save_runbook(session, Path(sys.argv[2]).read_text(encoding="utf-8"))
    db.dispose()
    """
)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_runbook_saved_by_another_process_is_seen_by_the_next_suggest(
    backend: str, tmp_path: Path
) -> None:
    with committed_database(backend, tmp_path) as (url, db):
        with db.unit_of_work() as session:
            load_starter(session)
        with db.unit_of_work() as session:
            assert top_key(session, FAX_TEXT) != "fax-jam"
        source = tmp_path / "fax.yaml"
        source.write_text(fax_runbook(), encoding="utf-8")
        subprocess.run(
            [sys.executable, "-c", SAVE_IN_ANOTHER_PROCESS, url, str(source)], check=True
        )
        with db.unit_of_work() as session:
            assert top_key(session, FAX_TEXT) == "fax-jam"


@pytest.mark.parametrize("backend", BACKENDS)
def test_prepare_index_builds_outside_the_transaction_that_suggests(
    backend: str, tmp_path: Path
) -> None:
    with committed_database(backend, tmp_path) as (url, db):
        with db.unit_of_work() as session:
            load_starter(session)
        service.prepare_index(db)
        with db.unit_of_work() as session:
            prepared = service.index_for(session)
        service.prepare_index(db)  # unchanged library: nothing rebuilt
        with db.unit_of_work() as session:
            assert service.index_for(session) is prepared
        other = Database.from_url(url)
        try:
            with other.unit_of_work() as session:
                save_runbook(session, fax_runbook())
        finally:
            other.dispose()
        service.prepare_index(db)
        with db.unit_of_work() as session:
            assert service.index_for(session) is not prepared
            assert top_key(session, FAX_TEXT) == "fax-jam"
