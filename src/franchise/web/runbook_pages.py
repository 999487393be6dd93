"""The runbook library: list, runbook page with its flowchart, editor, and revision diffs.

Who may edit: the owner, admins and L2 staff (the maintainers named in runbooks are L2);
L1 technicians read runbooks and send what they learn as lessons. The API's POST /runbooks
follows the same rule.

The editor's lint view and diff helpers live in web/editor, shared with policy_pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.service import get_staff
from franchise.accounts.sessions import SignedIn
from franchise.api.deps import DbSession
from franchise.errors import Conflict, FranchiseError, PermissionDenied
from franchise.lessons import service as lessons
from franchise.lessons.models import Lesson
from franchise.runbooks import service as runbooks
from franchise.runbooks.definition import CATEGORIES
from franchise.runbooks.flowchart import render_svg
from franchise.runbooks.lint import lint_source
from franchise.runbooks.models import Runbook, RunbookRevision
from franchise.tickets.service import get_ticket, runbook_ticket_stats
from franchise.web.auth import CurrentUser, check_csrf
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
NEW_RUNBOOK = """\
key: new-runbook
title: What the ticket is about
category: vpn
status: draft
maintainer: L2
description: When to use this runbook.
match: {keywords: [example]}
inputs: [{id: affected_user, label: Affected user, required: true}]
start: first-check
steps:
  first-check:
    kind: check
    text: What do you check first?
    options: {"It works again": fixed, "It still fails": hand-over}
  fixed: {kind: resolve, text: Fixed and confirmed with the user.}
  hand-over: {kind: escalate, to: L2, text: Hand over with what you found.}
edge_cases: []
sign_off: {resolve: Note what fixed it., escalate: Note what you checked.}
done_when: [User confirmed the fix]
"""


TEMPLATE_KEY, TEMPLATE_TITLE, TEMPLATE_KEYWORD = (
    "new-runbook",
    "What the ticket is about",
    "example",
)


def _template_left(key: str, title: str, keywords: Sequence[str]) -> str:
    """What of NEW_RUNBOOK's placeholder text a new runbook still carries ("" for none)."""
    left = [
        name
        for name, same in (
            ("key", key == TEMPLATE_KEY),
            ("title", title == TEMPLATE_TITLE),
            ("match keyword 'example'", TEMPLATE_KEYWORD in keywords),
        )
        if same
    ]
    return " and ".join(left)


# --- who may edit -----------------------------------------------------------------------


def may_edit_runbooks(user: SignedIn) -> bool:
    return user.is_manager or user.level in ("L2", "owner")


def require_runbook_editor(user: CurrentUser) -> SignedIn:
    if not may_edit_runbooks(user):
        raise PermissionDenied(
            "Only L2 staff, the owner or an admin may edit runbooks. "
            "Add a lesson on the ticket instead; the maintainer folds it in."
        )
    return user


RunbookEditor = Annotated[SignedIn, Depends(require_runbook_editor)]


# --- library and runbook page -----------------------------------------------------------


@router.get("/runbooks")
def runbook_list(request: Request, session: DbSession, user: CurrentUser) -> Response:
    runs = runbooks.use_counts(session)
    stats = runbook_ticket_stats(session)
    items = []
    for row in runbooks.list_runbooks(session):
        tickets, escalated = stats.get(row.key, (0, 0))
        items.append(
            {
                "row": row,
                "runs": runs.get(row.id, 0),
                "tickets": tickets,
                "escalated": escalated,
                "rate": round(100 * escalated / tickets) if tickets else None,
            }
        )
    context = {
        "items": items,
        "may_edit": may_edit_runbooks(user),
        "requests": len(pending_lessons(session, None)),
    }
    return render(request, "runbook_list.html", context)


def _history(session: Session, row: Runbook) -> list[dict[str, Any]]:
    revs = runbooks.revisions(session, row)
    names = staff_names(session, [r.author_id for r in revs])
    applied: dict[int, list[Lesson]] = {}
    ids = [r.id for r in revs]
    for lesson in session.scalars(select(Lesson).where(Lesson.revision_id.in_(ids))):
        applied.setdefault(lesson.revision_id or 0, []).append(lesson)
    return [
        {
            "rev": r,
            "author": names.get(r.author_id or 0, ""),
            "lessons": applied.get(r.id, []),
            "tickets": [int(t) for t in r.ticket_ids or [] if str(t).isdecimal()],
        }
        for r in reversed(revs)
    ]


def pending_lessons(session: Session, key: str | None) -> list[dict[str, Any]]:
    """Pending lessons of runbook `key`; with None, those asking for a new runbook."""
    return [x for x in lessons.list_lessons(session, pending_only=True) if x["runbook"] == key]


def _new_source(session: Session, requests: list[dict[str, Any]], chosen: Sequence[int]) -> str:
    """The new runbook's starting text, filed under the category of the first chosen lesson's
    ticket when it has a known one."""
    for x in requests:
        if x["id"] in chosen and x["ticket_id"] is not None:
            category = get_ticket(session, x["ticket_id"]).category
            if category in CATEGORIES:
                return NEW_RUNBOOK.replace("\ncategory: vpn\n", f"\ncategory: {category}\n", 1)
    return NEW_RUNBOOK


@router.get("/runbooks/new")
def new_runbook_page(
    request: Request,
    session: DbSession,
    _user: RunbookEditor,
    lesson: Annotated[list[int] | None, Query()] = None,
) -> Response:
    """The editor for a new runbook; `?lesson=ID` ticks a lesson that asked for it."""
    requests = pending_lessons(session, None)
    chosen = lesson or []
    return _editor(
        request,
        runbook=None,
        source=_new_source(session, requests, chosen),
        expected=0,
        note="created",
        pending=requests,
        checked=chosen,
    )


@router.post("/runbooks/new")
def new_runbook_post(
    request: Request,
    session: DbSession,
    user: RunbookEditor,
    source: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    lesson: Annotated[list[int] | None, Form()] = None,
    intent: Annotated[Intent, Form()] = "save",
) -> Response:
    source = normalise(source)
    parsed, problems = lint_source(source, "<new runbook>")
    view = lint_view(source, problems)
    if intent == "lint" and is_htmx(request):
        return lint_partial(request, view)
    checked = lesson or []

    def again(error: str = "", status: int = 200) -> Response:
        return _editor(
            request,
            runbook=None,
            source=source,
            expected=0,
            note=note,
            view=view,
            pending=pending_lessons(session, None),
            checked=checked,
            error=error,
            status=status,
        )

    if intent == "lint":
        return again()
    errors = [p for p in problems if p.is_error]
    if errors or parsed is None:
        return again(_not_saved(errors), 422)
    left = _template_left(parsed.key, parsed.title, parsed.keywords)
    if left:
        # Valid, but still the starting text: saved, it would match tickets on "example"
        # and close the lessons ticked here with a runbook nobody wrote.
        return again(f"Not saved: this is still the template's {left}; write your own.", 422)
    try:
        check_sizes(source, note)
        result, _applied = lessons.create_runbook_with_lessons(
            session,
            source=source,
            file="<new runbook>",
            author=get_staff(session, user.staff_id),
            note=note.strip(),
            lesson_ids=checked,
        )
    except FranchiseError as exc:
        return again(exc.message, exc.status)
    return RedirectResponse(f"/runbooks/{result.runbook.key}?saved={result.revision}", 303)


@router.get("/runbooks/{key}")
def runbook_page(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    key: str,
    revision: Annotated[int | None, Query(ge=1)] = None,
    saved: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    row = runbooks.get_runbook(session, key)
    if row.key != key:
        # Found by category: send the browser to the runbook's own address.
        return RedirectResponse(f"/runbooks/{row.key}", 303)
    parsed = runbooks.definition(session, row, revision)
    stats = runbook_ticket_stats(session).get(row.key, (0, 0))
    context = {
        "row": row,
        "rb": parsed,
        "shown_revision": revision or row.current_revision,
        # Our own markup: render_svg escapes every piece of runbook text it places.
        "flowchart": Markup(render_svg(parsed)),  # noqa: S704
        "history": _history(session, row),
        "pending": pending_lessons(session, row.key),
        "runs": runbooks.use_counts(session).get(row.id, 0),
        "tickets": stats[0],
        "escalated": stats[1],
        "may_edit": may_edit_runbooks(user),
        "saved": saved,
    }
    return render(request, "runbook.html", context)


# --- editor -----------------------------------------------------------------------------


def _not_saved(problems: Sequence[Problem]) -> str:
    count = len(problems)
    return (
        f"Not saved: {count} problem{'s' if count != 1 else ''} to fix first "
        "(shown beside their lines)."
    )


def _editor(
    request: Request,
    *,
    runbook: Runbook | None,
    source: str,
    expected: int,
    note: str,
    view: LintView | None = None,
    pending: list[dict[str, Any]] | None = None,
    checked: Sequence[int] = (),
    error: str = "",
    conflict: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    if view is None:
        view = lint_view(source, lint_source(source, "<runbook>")[1])
    key = runbook.key if runbook else None
    context = {
        "runbook": runbook,
        "heading": f"Edit {runbook.title}" if runbook else "New runbook",
        "action": f"/runbooks/{key}/edit" if key else "/runbooks/new",
        "cancel": f"/runbooks/{key}" if key else "/runbooks",
        "source": source,
        "expected": expected,
        "note": note,
        "lint": view,
        "pending": pending or [],
        "checked": set(checked),
        "error": error,
        "conflict": conflict,
        "doc_label": "runbook",
    }
    return render(request, "runbook_edit.html", context, status=status)


@router.get("/runbooks/{key}/edit")
def edit_page(request: Request, session: DbSession, _user: RunbookEditor, key: str) -> Response:
    row = runbooks.get_runbook(session, key)
    return _editor(
        request,
        runbook=row,
        source=runbooks.current_source(session, row),
        expected=row.current_revision,
        note="",
        pending=pending_lessons(session, row.key),
    )


@router.post("/runbooks/{key}/edit")
def edit_post(
    request: Request,
    session: DbSession,
    user: RunbookEditor,
    key: str,
    source: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    expected_revision: Annotated[int, Form()] = 0,
    lesson: Annotated[list[int] | None, Form()] = None,
    intent: Annotated[Intent, Form()] = "save",
) -> Response:
    row = runbooks.get_runbook(session, key)
    source = normalise(source)
    problems = lint_source(source, f"{row.key}.yaml")[1]
    view = lint_view(source, problems)
    if intent == "lint" and is_htmx(request):
        return lint_partial(request, view)
    checked = lesson or []

    def again(
        error: str = "", status: int = 200, expected: int = expected_revision, **extra: Any
    ) -> Response:
        return _editor(
            request,
            runbook=row,
            source=source,
            expected=expected,
            note=note,
            view=view,
            pending=pending_lessons(session, row.key),
            checked=checked,
            error=error,
            status=status,
            **extra,
        )

    if intent == "lint":
        return again()
    errors = [p for p in problems if p.is_error]
    if errors:
        return again(_not_saved(errors), 422)
    try:
        check_sizes(source, note)
        result, _applied = lessons.revise_runbook_with_lessons(
            session,
            key=row.key,
            source=source,
            file=f"{row.key}.yaml",
            author=get_staff(session, user.staff_id),
            note=note.strip(),
            lesson_ids=checked,
            expected_revision=expected_revision,
        )
    except Conflict as exc:
        # Keep the editor's text and show what the other person changed; saving again is
        # then a deliberate choice made with their change in view.
        theirs = _conflict(session, row, expected_revision)
        return again(exc.message, 409, expected=row.current_revision, conflict=theirs)
    except FranchiseError as exc:
        return again(exc.message, exc.status)
    if result.action == "unchanged":
        return again("Nothing changed: the text is the same as the current revision.", 422)
    return RedirectResponse(f"/runbooks/{row.key}?saved={result.revision}", 303)


def _conflict(session: Session, row: Runbook, expected: int) -> dict[str, Any]:
    current = runbooks.revision(session, row)
    try:
        base = runbooks.revision(session, row, expected).source if expected else ""
    except FranchiseError:
        base = ""
    names = staff_names(session, [current.author_id])
    return {
        "revision": current.number,
        "author": names.get(current.author_id or 0, "someone"),
        "note": current.note,
        **diff_context(base, current.source, expected, current.number),
    }


# --- diff -------------------------------------------------------------------------------


@router.get("/runbooks/{key}/diff")
def runbook_diff(
    request: Request,
    session: DbSession,
    _user: CurrentUser,
    key: str,
    from_: Annotated[int | None, Query(alias="from", ge=1)] = None,
    to: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    row = runbooks.get_runbook(session, key)
    to_rev = runbooks.revision(session, row, to)
    from_no = from_ if from_ is not None else max(to_rev.number - 1, 1)
    from_rev: RunbookRevision = runbooks.revision(session, row, from_no)
    names = staff_names(session, [from_rev.author_id, to_rev.author_id])
    context = {
        "row": row,
        "from_rev": from_rev,
        "to_rev": to_rev,
        "names": names,
        "numbers": list(range(1, row.current_revision + 1)),
        **diff_context(from_rev.source, to_rev.source, from_rev.number, to_rev.number),
    }
    return render(request, "runbook_diff.html", context)
