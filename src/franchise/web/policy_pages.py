"""The escalation map, approval boundaries and message templates: view, edit, history, diff.

All of it is owner/admin only, checked here on the server (technicians get 403): these
documents decide who may act without the owner, so changing them is the owner's call. The
editor works like the runbook editor: YAML checked as you type with each problem beside its
line, every save a new revision with a note, a stale save refused as a conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.models import Staff
from franchise.accounts.service import get_staff
from franchise.api.deps import DbSession
from franchise.approvals import service as approvals
from franchise.approvals.parse import parse_boundaries
from franchise.errors import Conflict, FranchiseError
from franchise.escalation import service as escalation
from franchise.escalation.lint import lint_escalation
from franchise.escalation.present import conditions_text
from franchise.messages import service as messages
from franchise.messages.lint import lint_templates
from franchise.policydocs import service as policydocs
from franchise.web.auth import CurrentUser, ManagerUser, check_csrf
from franchise.web.editor import (
    Intent,
    LintView,
    check_sizes,
    diff_context,
    is_htmx,
    lint_partial,
    lint_view,
    normalise,
    staff_names,
)
from franchise.web.templating import render
from franchise.yamldoc.problems import Problem

router = APIRouter(dependencies=[Depends(check_csrf)])


@dataclass(frozen=True)
class PolicyKind:
    slug: str  # also the policydocs kind and the URL
    title: str
    file: str
    blurb: str
    current: Callable[[Session], tuple[str, int]]
    lint: Callable[[Session, str], list[Problem]]
    save: Callable[[Session, str, Staff, str, int], tuple[int, bool]]
    view: Callable[[Session, str], dict[str, Any]]


# --- escalation map ---------------------------------------------------------------------


def _escalation_current(session: Session) -> tuple[str, int]:
    version = escalation.current_map(session)
    return version.source, version.revision


def _escalation_save(
    session: Session, source: str, author: Staff, note: str, expected: int
) -> tuple[int, bool]:
    return escalation.save_map(
        session,
        source,
        file="escalation.yaml",
        author=author,
        note=note,
        expected_revision=expected,
    )


def _escalation_view(_session: Session, source: str) -> dict[str, Any]:
    esc_map = escalation.validate_map(source, "escalation.yaml")
    rules = [
        {
            "number": number,
            "rule": rule,
            "when": [conditions_text(block) or "always" for block in rule.when] or ["always"],
        }
        for number, rule in enumerate(esc_map.rules, start=1)
    ]
    return {"map": esc_map, "rules": rules}


# --- approval boundaries ----------------------------------------------------------------


def _boundaries_save(
    session: Session, source: str, author: Staff, note: str, expected: int
) -> tuple[int, bool]:
    revision, changed = approvals.save_boundaries(
        session,
        source,
        author=author,
        note=note,
        expected_revision=expected,
        file="boundaries.yaml",
    )
    return revision.number, changed


def _boundaries_view(session: Session, source: str) -> dict[str, Any]:
    boundaries = approvals.validate_boundaries(source, "boundaries.yaml")
    data = boundaries.to_dict()
    return {
        "levels": data["levels"],
        "people": data["people"],
        "timeout": data["timeout"],
        "kinds": data["kinds"],
        "unknown_people": approvals.unknown_people(session, boundaries),
    }


# --- message templates ------------------------------------------------------------------


def _templates_current(session: Session) -> tuple[str, int]:
    number, source = messages.current_source(session)
    return source, number


def _templates_lint(session: Session, text: str) -> list[Problem]:
    return lint_templates(text, "templates.yaml", messages.lint_context(session))[1]


def _templates_save(
    session: Session, source: str, author: Staff, note: str, expected: int
) -> tuple[int, bool]:
    revision, changed = messages.save_templates(
        session, source, file="templates.yaml", author=author, note=note, expected_revision=expected
    )
    return revision.number, changed


def _templates_view(_session: Session, source: str) -> dict[str, Any]:
    # Without the runbook list: a stored override for a since-renamed runbook must not
    # hide the whole document from the owner who needs to fix it.
    parsed = lint_templates(source, "templates.yaml")[0]
    return {"templates": messages.template_dicts(parsed) if parsed else []}


KINDS = (
    PolicyKind(
        slug="escalation",
        title="Escalation map",
        file="escalation.yaml",
        blurb="Who decides what: rules are checked top to bottom and the first match decides.",
        current=_escalation_current,
        lint=lambda _s, text: lint_escalation(text, "escalation.yaml")[1],
        save=_escalation_save,
        view=_escalation_view,
    ),
    PolicyKind(
        slug="boundaries",
        title="Approval boundaries",
        file="boundaries.yaml",
        blurb="What each level may approve on its own: cost, time, impact and action kinds.",
        current=approvals.boundaries_source,
        lint=lambda _s, text: parse_boundaries(text, "boundaries.yaml")[1],
        save=_boundaries_save,
        view=_boundaries_view,
    ),
    PolicyKind(
        slug="templates",
        title="Message templates",
        file="templates.yaml",
        blurb="Client messages for each stage of a ticket, filled from the ticket.",
        current=_templates_current,
        lint=_templates_lint,
        save=_templates_save,
        view=_templates_view,
    ),
)


# --- pages ------------------------------------------------------------------------------


def _history(session: Session, kind: PolicyKind) -> list[dict[str, Any]]:
    revs = policydocs.revisions(session, kind.slug)
    names = staff_names(session, [r.author_id for r in revs])
    return [{"rev": r, "author": names.get(r.author_id or 0, "")} for r in reversed(revs)]


def _editor(
    request: Request,
    kind: PolicyKind,
    *,
    source: str,
    expected: int,
    note: str,
    view: LintView,
    error: str = "",
    conflict: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "kind": kind,
        "heading": f"Edit the {kind.title.lower()}",
        "action": f"/{kind.slug}/edit",
        "cancel": f"/{kind.slug}",
        "source": source,
        "expected": expected,
        "note": note,
        "lint": view,
        "pending": [],
        "checked": set(),
        "error": error,
        "conflict": conflict,
        "doc_label": kind.file,
    }
    return render(request, "policy_edit.html", context, status=status)


def _install(kind: PolicyKind) -> None:
    @router.get(f"/{kind.slug}", name=f"{kind.slug}_page")
    def page(
        request: Request,
        session: DbSession,
        user: CurrentUser,
        saved: Annotated[int | None, Query(ge=1)] = None,
    ) -> Response:
        # Everyone reads what they work under (the map, the limits, the templates); only
        # the owner and admins change them.
        source, number = kind.current(session)
        context = {
            "can_edit": user.is_manager,
            "kind": kind,
            "revision": number,
            "history": _history(session, kind),
            "saved": saved,
            **kind.view(session, source),
        }
        return render(request, f"policy_{kind.slug}.html", context)

    @router.get(f"/{kind.slug}/edit", name=f"{kind.slug}_edit")
    def edit(request: Request, session: DbSession, _user: ManagerUser) -> Response:
        source, number = kind.current(session)
        view = lint_view(source, kind.lint(session, source))
        return _editor(request, kind, source=source, expected=number, note="", view=view)

    @router.post(f"/{kind.slug}/edit", name=f"{kind.slug}_save")
    def save(
        request: Request,
        session: DbSession,
        user: ManagerUser,
        source: Annotated[str, Form()] = "",
        note: Annotated[str, Form()] = "",
        expected_revision: Annotated[int, Form()] = 0,
        intent: Annotated[Intent, Form()] = "save",
    ) -> Response:
        source = normalise(source)
        problems = kind.lint(session, source)
        view = lint_view(source, problems)
        if intent == "lint" and is_htmx(request):
            return lint_partial(request, view)

        def again(
            error: str = "", status: int = 200, expected: int = expected_revision, **extra: Any
        ) -> Response:
            return _editor(
                request,
                kind,
                source=source,
                expected=expected,
                note=note,
                view=view,
                error=error,
                status=status,
                **extra,
            )

        if intent == "lint":
            return again()
        if problems:
            count = len(problems)
            return again(
                f"Not saved: {count} problem{'s' if count != 1 else ''} to fix first "
                "(shown beside their lines).",
                422,
            )
        try:
            check_sizes(source, note)
            author = get_staff(session, user.staff_id)
            number, changed = kind.save(session, source, author, note.strip(), expected_revision)
        except Conflict as exc:
            current_source, current_number = kind.current(session)
            theirs = _conflict(session, kind, expected_revision, current_source, current_number)
            return again(exc.message, 409, expected=current_number, conflict=theirs)
        except FranchiseError as exc:
            return again(exc.message, exc.status)
        if not changed:
            return again("Nothing changed: the text is the same as the current revision.", 422)
        return RedirectResponse(f"/{kind.slug}?saved={number}", 303)

    @router.get(f"/{kind.slug}/diff", name=f"{kind.slug}_diff")
    def diff(
        request: Request,
        session: DbSession,
        _user: CurrentUser,
        from_: Annotated[int | None, Query(alias="from", ge=1)] = None,
        to: Annotated[int | None, Query(ge=1)] = None,
    ) -> Response:
        latest = policydocs.current(session, kind.slug)
        latest_no = latest.number if latest else 0
        context: dict[str, Any] = {"kind": kind, "numbers": list(range(1, latest_no + 1))}
        if latest is not None:
            to_rev = policydocs.get_revision(session, kind.slug, to or latest_no)
            from_rev = policydocs.get_revision(
                session, kind.slug, from_ if from_ is not None else max(to_rev.number - 1, 1)
            )
            context |= {
                "from_rev": from_rev,
                "to_rev": to_rev,
                "names": staff_names(session, [from_rev.author_id, to_rev.author_id]),
                **diff_context(from_rev.source, to_rev.source, from_rev.number, to_rev.number),
            }
        return render(request, "policy_diff.html", context)


def _conflict(
    session: Session, kind: PolicyKind, expected: int, current_source: str, current_number: int
) -> dict[str, Any]:
    latest = policydocs.current(session, kind.slug)
    try:
        base = policydocs.get_revision(session, kind.slug, expected).source if expected else ""
    except FranchiseError:
        base = ""
    author = staff_names(session, [latest.author_id if latest else None])
    return {
        "revision": current_number,
        "author": author.get(latest.author_id or 0, "someone") if latest else "someone",
        "note": latest.note if latest else "",
        **diff_context(base, current_source, expected, current_number),
    }


for _kind in KINDS:
    _install(_kind)
