"""Runbooks in the database: import, revise, export, and runs on tickets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.db import utcnow
from franchise.errors import Conflict, InvalidInput, NotFound
from franchise.policydocs.document import VersionCache, checked
from franchise.runbooks import engine
from franchise.runbooks.definition import Runbook as RunbookDef
from franchise.runbooks.lint import LintContext, lint_source
from franchise.runbooks.models import Runbook, RunbookRevision, RunbookRun, RunStep
from franchise.yamldoc.problems import Problem

STARTER = Path(__file__).resolve().parent.parent / "starter" / "runbooks"


class RunTicket(Protocol):
    """What runs need of a ticket (tickets build on runbooks, not the other way round)."""

    @property
    def id(self) -> int: ...
    @property
    def runbook_key(self) -> str | None: ...
    @property
    def runbook_source(self) -> str | None: ...


@dataclass(frozen=True)
class ImportResult:
    runbook: Runbook
    revision: int
    action: str  # created | revised | unchanged


# Stored revisions, parsed once per process; a revision that a stricter release refuses
# raises InvalidInput naming it (no assert: those vanish under `python -O`).
_VERSIONS: VersionCache[RunbookDef] = VersionCache(
    "runbook", lambda source, number: lint_source(source, "<stored>"), size=512
)


def validate(source: str, file: str, context: LintContext | None = None) -> RunbookDef:
    """Lint a runbook; any problem refuses it with every problem listed."""
    parsed, problems = (
        _lint_cached(source, file) if context is None else lint_source(source, file, context)
    )
    return checked(parsed, problems, file)


@lru_cache(maxsize=256)
def _lint_cached(source: str, file: str) -> tuple[RunbookDef | None, tuple[Problem, ...]]:
    # Parsing YAML with line numbers is the slow part of a save; the same text (the starter
    # library on every `init`, a re-import) always gives the same answer.
    parsed, problems = lint_source(source, file)
    return parsed, tuple(problems)


def save_runbook(
    session: Session,
    source: str,
    *,
    file: str = "<runbook>",
    author: Staff | None = None,
    note: str = "",
    expected_revision: int | None = None,
    ticket_ids: Sequence[int] = (),
    context: LintContext | None = None,
) -> ImportResult:
    """Create a runbook or add a revision to it; unchanged sources add nothing."""
    parsed = validate(source, file, context)
    # Locked, so two saves from the same revision are decided one after the other.
    row = session.scalar(select(Runbook).where(Runbook.key == parsed.key).with_for_update())
    now = utcnow()
    if row is None:
        if expected_revision not in (None, 0):
            raise Conflict(
                f"runbook '{parsed.key}' does not exist (expected revision {expected_revision})"
            )
        row = Runbook(
            key=parsed.key,
            title=parsed.title,
            category=parsed.category,
            status=parsed.status,
            maintainer=parsed.maintainer,
            current_revision=1,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        _add_revision(session, row, 1, source, author, note or "created", ticket_ids, now)
        return ImportResult(row, 1, "created")
    if expected_revision is not None and expected_revision != row.current_revision:
        raise Conflict(
            f"runbook '{row.key}' is at revision {row.current_revision}, not {expected_revision}: "
            "someone saved it meanwhile; reload, reapply your change and save again"
        )
    if current_source(session, row) == source:
        return ImportResult(row, row.current_revision, "unchanged")
    number = row.current_revision + 1
    _add_revision(session, row, number, source, author, note, ticket_ids, now)
    row.current_revision = number
    row.title, row.category, row.status = parsed.title, parsed.category, parsed.status
    row.maintainer = parsed.maintainer
    row.updated_at = now
    return ImportResult(row, number, "revised")


def _add_revision(
    session: Session,
    row: Runbook,
    number: int,
    source: str,
    author: Staff | None,
    note: str,
    ticket_ids: Sequence[int],
    now: datetime,
) -> RunbookRevision:
    revision = RunbookRevision(
        runbook_id=row.id,
        number=number,
        source=source,
        author_id=author.id if author else None,
        note=note,
        ticket_ids=[str(t) for t in ticket_ids],
        created_at=now,
    )
    session.add(revision)
    session.flush()
    return revision


def load_starter(session: Session, folder: Path = STARTER) -> list[ImportResult]:
    """Import the shipped runbooks whose keys are not in the database yet (idempotent)."""
    results = []
    existing = set(session.scalars(select(Runbook.key)))
    for path in sorted(folder.glob("*.yaml")):
        source = path.read_text(encoding="utf-8")
        parsed = validate(source, path.name)
        if parsed.key in existing:
            continue
        results.append(save_runbook(session, source, file=path.name, note="starter library"))
    return results


def get_runbook(session: Session, ref: str) -> Runbook:
    """By key, or by category when exactly one non-archived runbook serves it."""
    row = session.scalar(select(Runbook).where(Runbook.key == ref))
    if row is not None:
        return row
    by_category = list(
        session.scalars(
            select(Runbook).where(Runbook.category == ref, Runbook.status != "archived")
        )
    )
    if len(by_category) == 1:
        return by_category[0]
    if len(by_category) > 1:
        keys = ", ".join(r.key for r in by_category)
        raise InvalidInput(f"category '{ref}' has several runbooks ({keys}); name one by key")
    raise NotFound(f"no runbook '{ref}' (by key or category); `franchise runbook list` shows them")


def list_runbooks(session: Session, *, include_archived: bool = True) -> list[Runbook]:
    query = select(Runbook).order_by(Runbook.category, Runbook.key)
    if not include_archived:
        query = query.where(Runbook.status != "archived")
    return list(session.scalars(query))


def revision(session: Session, row: Runbook, number: int | None = None) -> RunbookRevision:
    wanted = number or row.current_revision
    rev = session.scalar(
        select(RunbookRevision).where(
            RunbookRevision.runbook_id == row.id, RunbookRevision.number == wanted
        )
    )
    if rev is None:
        raise NotFound(f"runbook '{row.key}' has no revision {wanted}")
    return rev


def revisions(session: Session, row: Runbook) -> list[RunbookRevision]:
    return list(
        session.scalars(
            select(RunbookRevision)
            .where(RunbookRevision.runbook_id == row.id)
            .order_by(RunbookRevision.number)
        )
    )


def current_source(session: Session, row: Runbook) -> str:
    return revision(session, row).source


def definition(session: Session, row: Runbook, number: int | None = None) -> RunbookDef:
    rev = revision(session, row, number)
    return definition_of(rev.number, rev.source)


def all_definitions(session: Session, *, include_archived: bool = False) -> list[RunbookDef]:
    return [
        definition_of(number, source)
        for number, source in current_sources(session, include_archived=include_archived)
    ]


def current_sources(session: Session, *, include_archived: bool = False) -> list[tuple[int, str]]:
    """(revision, YAML) of every runbook's current revision, by key: read now, parse later."""
    query = (
        select(RunbookRevision.number, RunbookRevision.source)
        .join(Runbook, Runbook.id == RunbookRevision.runbook_id)
        .where(RunbookRevision.number == Runbook.current_revision)
        .order_by(Runbook.key)
    )
    if not include_archived:
        query = query.where(Runbook.status != "archived")
    return [(number, source) for number, source in session.execute(query)]


def definition_of(revision_number: int, source: str) -> RunbookDef:
    """The definition of a stored revision (cached: each version parses once per process)."""
    return _VERSIONS.get(revision_number, source)


def export_runbooks(session: Session, folder: Path) -> list[Path]:
    """Write every runbook's current revision as KEY.yaml, all or nothing: the files are
    written beside the folder first and moved in only when every one was written."""
    import shutil
    import tempfile

    folder.mkdir(parents=True, exist_ok=True)
    sources = [(row.key, current_source(session, row)) for row in list_runbooks(session)]
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=folder))
    try:
        for key, source in sources:
            (staging / f"{key}.yaml").write_text(source, encoding="utf-8")
        written = []
        for key, _ in sources:
            target = folder / f"{key}.yaml"
            (staging / f"{key}.yaml").replace(target)
            written.append(target)
    except OSError as exc:
        raise InvalidInput(f"cannot export to {folder}: {exc}; nothing was written") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


EXPORT_FORMATS = ("yaml", "markdown", "html")


def export_articles(session: Session, folder: Path, fmt: str, base_url: str) -> list[Path]:
    """Write every non-archived runbook's current revision as a readable article:
    KEY.md with its flowchart beside it as KEY.svg, or KEY.html with the SVG inline.
    All or nothing, like export_runbooks."""
    import shutil
    import tempfile

    from franchise.runbooks.article import (
        ArticleSource,
        html_page,
        markdown_article,
        standalone_svg,
    )

    if fmt not in ("markdown", "html"):
        raise InvalidInput(f"--format: use one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    files: list[tuple[str, str]] = []
    for row in list_runbooks(session, include_archived=False):
        source = ArticleSource(definition(session, row), row.current_revision, base_url)
        if fmt == "html":
            files.append((f"{row.key}.html", html_page(source)))
        else:
            files.append((f"{row.key}.md", markdown_article(source, svg_file=f"{row.key}.svg")))
            files.append((f"{row.key}.svg", standalone_svg(source.runbook)))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".export-", dir=folder))
    except OSError as exc:
        raise InvalidInput(f"cannot export to {folder}: {exc}; nothing was written") from exc
    try:
        for name, text in files:
            (staging / name).write_text(text, encoding="utf-8")
        written = []
        for name, _ in files:
            (staging / name).replace(folder / name)
            written.append(folder / name)
    except OSError as exc:
        raise InvalidInput(f"cannot export to {folder}: {exc}; nothing was written") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


def import_runbooks(
    session: Session, paths: Sequence[Path], *, author: Staff | None = None, note: str = "imported"
) -> list[ImportResult]:
    """Import files all-or-nothing: one bad file refuses the whole import."""
    from franchise.runbooks.lint import lint_files

    report = lint_files(paths)
    if not report.ok:
        raise InvalidInput(
            f"{len(report.errors)} problem(s); nothing imported",
            errors=[p.to_dict() for p in report.errors],
        )
    results = []
    for file, _ in report.runbooks:
        source = Path(file).read_text(encoding="utf-8")
        results.append(save_runbook(session, source, file=file, author=author, note=note))
    return results


# --- runs -------------------------------------------------------------------------------


def start_run(
    session: Session,
    row: Runbook,
    *,
    ticket: RunTicket | None = None,
    actor: Staff | None = None,
    inputs: dict[str, str] | None = None,
) -> RunbookRun:
    parsed = definition(session, row)
    missing = [i.id for i in parsed.inputs if i.required and not (inputs or {}).get(i.id)]
    if inputs is not None and missing:
        raise InvalidInput(f"required input(s) missing: {', '.join(missing)}")
    run = RunbookRun(
        ticket_id=ticket.id if ticket else None,
        runbook_id=row.id,
        revision_number=row.current_revision,
        started_by_id=actor.id if actor else None,
        current_step=parsed.start,
        inputs=dict(inputs or {}),
    )
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, run_id: int) -> RunbookRun:
    run = session.get(RunbookRun, run_id)
    if run is None:
        raise NotFound(f"no runbook run {run_id}")
    return run


def run_steps(
    session: Session, run: RunbookRun, *, include_retracted: bool = False
) -> list[RunStep]:
    query = select(RunStep).where(RunStep.run_id == run.id).order_by(RunStep.seq)
    if not include_retracted:
        query = query.where(RunStep.retracted_at.is_(None))
    return list(session.scalars(query))


def run_state(session: Session, run: RunbookRun) -> engine.RunState:
    row = session.get(Runbook, run.runbook_id)
    if row is None:
        raise NotFound(f"runbook run {run.id} refers to a runbook that no longer exists")
    parsed = definition(session, row, run.revision_number)
    return engine.replay(parsed, [(s.step_id, s.answer) for s in run_steps(session, run)])


def answer_run(
    session: Session,
    run: RunbookRun,
    *,
    step: str,
    reply: str,
    note: str | None = None,
    actor: Staff | None = None,
) -> engine.RunState:
    """Record one answer. `step` must be the run's current step, so two people answering
    the same step at once cannot both win: the second is told where the run now is."""
    # Lock the run row (PostgreSQL; SQLite already serialises writers) so the second answer
    # waits for the first and then sees the step it moved to.
    session.refresh(run, with_for_update=True)
    if run.outcome == "switched":
        raise Conflict(f"run {run.id} was left for another runbook; answer the new run")
    state = run_state(session, run)
    if state.finished:
        raise Conflict(f"run {run.id} already ended at '{state.current}' ({state.outcome})")
    if step != state.current:
        raise Conflict(
            f"run {run.id} is at step '{state.current}', not '{step}' (someone answered it)"
        )
    new_state = engine.answer(state, reply)
    # The unique (run, seq) pair makes a concurrent second answer fail instead of forking the run.
    seq = (session.scalar(select(func.max(RunStep.seq)).where(RunStep.run_id == run.id)) or 0) + 1
    session.add(
        RunStep(
            run_id=run.id,
            seq=seq,
            step_id=step,
            answer=new_state.path[-1].answer,
            note=note,
            actor_id=actor.id if actor else None,
        )
    )
    run.current_step = new_state.current
    if new_state.finished:
        run.outcome = new_state.outcome
        run.outcome_level = new_state.level
        run.outcome_step = new_state.current
        run.finished_at = utcnow()
    session.flush()
    return new_state


def back_run(session: Session, run: RunbookRun) -> engine.RunState:
    """Step back: retract the last answer (kept on record, no longer part of the path)."""
    steps = run_steps(session, run)
    if not steps:
        raise InvalidInput("the run is at its first step; there is nothing to go back to")
    steps[-1].retracted_at = utcnow()
    session.flush()
    state = run_state(session, run)
    run.current_step = state.current
    run.outcome = run.outcome_level = run.outcome_step = None
    run.finished_at = None
    return state


def latest_run(session: Session, ticket: RunTicket) -> RunbookRun | None:
    return session.scalar(
        select(RunbookRun)
        .where(RunbookRun.ticket_id == ticket.id)
        .order_by(RunbookRun.id.desc())
        .limit(1)
    )


def current_run(session: Session, ticket: RunTicket) -> RunbookRun | None:
    """The latest run, unless the ticket's runbook was detached or replaced after it: a run
    of a runbook the technician since ruled out no longer speaks for the ticket."""
    run = latest_run(session, ticket)
    if run is None or ticket.runbook_source is None:
        return run
    if ticket.runbook_source == "detached":
        return None
    row = session.get(Runbook, run.runbook_id)
    return run if row is not None and row.key == ticket.runbook_key else None


def action_step_of(session: Session, ticket: RunTicket) -> tuple[int | None, str | None]:
    """The (run, step) when the ticket's run under way stands at an action step."""
    run = latest_run(session, ticket)
    if run is None or run.outcome is not None or run.current_step is None:
        return None, None
    state = run_state(session, run)
    return (run.id, state.current) if state.step.kind == "action" else (None, None)


def use_counts(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(RunbookRun.runbook_id, func.count()).group_by(RunbookRun.runbook_id)
    )
    return {int(rid): int(n) for rid, n in rows}
